/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Stand-in for <asm/byteorder.h>: xdpkit compiles BPF for little endian only. */
#ifndef __XDPKIT_ASM_BYTEORDER_H
#define __XDPKIT_ASM_BYTEORDER_H
#include <linux/byteorder/little_endian.h>
#endif
