package xsk

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -I../bpf/include" -target bpfel -go-package xsk -output-stem xsk_redirect xskRedirect ../bpf/xsk_redirect.c
