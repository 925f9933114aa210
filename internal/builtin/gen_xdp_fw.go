package builtin

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package builtin -output-stem xdp_fw xdpFw ../../bpf/xdp_fw.c
