package testprogs

// Plain clang, not bpf2go: bpf2go reads the object with cilium/ebpf, which
// refuses the ".struct_ops" section this object is about.
//go:generate clang -O2 -g -Wall -Werror -target bpfel -fno-ident -fdebug-compilation-dir . -I../../bpf/include -c ../../bpf/testprogs/run_struct_ops_sec.c -o run_struct_ops_sec_bpfel.o
//go:generate llvm-strip -g run_struct_ops_sec_bpfel.o
