// Package xsk is AF_XDP in pure Go: UMEM, the four rings, sockets, and the
// XSKMAP that an XDP program redirects frames through.
//
// An AF_XDP socket (XSK) is bound to one queue of one interface. Frames
// live in a UMEM, a memory area split into equal chunks (frames) that the
// process registers with the kernel; ownership of a frame moves through four
// single-producer, single-consumer rings, shared with the kernel by mmap:
//
//	RX path:  process --FILL--> kernel writes a frame --RX--> process
//	TX path:  process --TX--> kernel sends the frame --COMPLETION--> process
//
// The process produces on FILL and TX and consumes RX and COMPLETION. Each
// ring has a batch API in the spirit of libxdp: Reserve/Submit on the
// producer rings, Peek/Release on the consumer rings, with cached indices so
// that a batch costs one atomic load when the cache runs out and one atomic
// store to publish. Nothing allocates per frame.
//
// The kernel only delivers frames to a socket when an XDP program on the
// interface redirects them into an XSKMAP entry that holds the socket.
// AttachProgram loads xdpkit's default program (bpf/xsk_redirect.c: a
// queue's frames go to the socket registered for that queue, everything
// else passes to the stack); OpenXSKMap registers sockets in the map of a
// program of one's own instead. Sockets remove their map entries when they
// close.
//
// A typical receiver:
//
//	umem, _ := xsk.NewUmem(xsk.UmemConfig{})
//	sock, _ := xsk.NewSocket(umem, xsk.SocketConfig{Interface: "eth0", Queue: 0})
//	prog, _ := xsk.AttachProgram("eth0", xsk.ProgramOptions{})
//	prog.Register(sock)
//	// give FILL its frames, then loop: Peek RX, read frames, refill FILL, Release RX.
//
// Copy mode works on every driver with XDP_REDIRECT (veth included);
// zero-copy needs driver support. Everything here needs CAP_NET_RAW for the
// socket and CAP_BPF/CAP_NET_ADMIN for the program.
package xsk
