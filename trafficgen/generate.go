package trafficgen

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../bpf/include" -target bpfel -go-package trafficgen -output-stem xdp_gen xdpGen ../bpf/xdp_gen.c
