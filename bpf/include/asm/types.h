/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Architecture-neutral stand-in for <asm/types.h>, so that the kernel's UAPI
 * headers build for the BPF target without a multiarch include path. */
#ifndef __XDPKIT_ASM_TYPES_H
#define __XDPKIT_ASM_TYPES_H
#include <asm-generic/types.h>
#endif
