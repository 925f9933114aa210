/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Architecture-neutral stand-in for <asm/swab.h> (see types.h). */
#ifndef __XDPKIT_ASM_SWAB_H
#define __XDPKIT_ASM_SWAB_H
#include <asm-generic/swab.h>
#endif
