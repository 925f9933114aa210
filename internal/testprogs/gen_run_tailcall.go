package testprogs

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../../bpf/include" -target bpfel -go-package testprogs run_tailcall ../../bpf/testprogs/run_tailcall.c
