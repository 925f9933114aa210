package testprogs

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package testprogs run_skb ../../bpf/testprogs/run_skb.c
