/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Architecture-neutral stand-in for <asm/bitsperlong.h> (see types.h). */
#ifndef __XDPKIT_ASM_BITSPERLONG_H
#define __XDPKIT_ASM_BITSPERLONG_H
#include <asm-generic/bitsperlong.h>
#endif
