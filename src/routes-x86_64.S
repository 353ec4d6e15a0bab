/* SPDX-License-Identifier: MIT */
/*
 * The two routes that cannot be written in C (routes.c has their C halves).
 *
 * vfork: the child runs on the caller's stack until it execs or exits, and
 * returns through it, so nothing of ours may stay on the stack across the
 * real vfork: the return address goes to the thread state
 * (__ukcov_vfork_prepare) and comes back from it (__ukcov_vfork_back), once
 * in the child and once in the parent, the child gone.  The real vfork
 * (glibc's, or a sanitizer's) keeps its own return address in a register.
 *
 * __ukcov_lp_trampoline: entered instead of a C++ landing pad, with the
 * landing frame's registers installed by the unwinder.  It saves every
 * register (a landing pad of -fnon-call-exceptions code may find any of
 * them live), calls __ukcov_landing_pad with the frame's stack pointer,
 * restores them, and jumps to the pad.  It keeps clear of the frame's red
 * zone but for the 8 bytes just below the frame's stack pointer, which hold
 * the jump target at the end (a signal frame is placed below the red zone,
 * so nothing overwrites them in between).
 */
#if defined(__x86_64__)
#if defined(__CET__)
#define ENDBR endbr64
#else
#define ENDBR
#endif

	.text

	.globl	vfork
	.type	vfork, @function
	.globl	__vfork
	.type	__vfork, @function
	.p2align 4
vfork:
__vfork:
	.cfi_startproc
	ENDBR
	movq	(%rsp), %rdi		/* our return address */
	subq	$8, %rsp		/* 16-byte alignment for the call */
	.cfi_adjust_cfa_offset 8
	call	__ukcov_vfork_prepare	/* -> the function to call, in %rax */
	addq	$16, %rsp		/* padding and return address: gone */
	.cfi_adjust_cfa_offset -16
	.cfi_undefined rip		/* the return address is in the TLS */
	call	*%rax			/* returns twice */
	movq	%rax, %rdi
	call	__ukcov_vfork_back	/* -> %rax where to go, %rdx result */
	movq	%rax, %rcx
	movq	%rdx, %rax
	jmp	*%rcx
	.cfi_endproc
	.size	vfork, .-vfork
	.size	__vfork, .-__vfork

#ifndef UKCOV_SHARED
/*
 * vfork(2) for a fully static program (routes.c, UKCOV_ROUTE): glibc's
 * way, the return address kept in a register across the system call.
 */
	.globl	__ukcov_raw_vfork
	.hidden	__ukcov_raw_vfork
	.type	__ukcov_raw_vfork, @function
	.p2align 4
__ukcov_raw_vfork:
	.cfi_startproc
	ENDBR
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	.cfi_register rip, rdi
	movl	$58, %eax		/* SYS_vfork */
	syscall
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset rip, 0
	cmpl	$-4095, %eax
	jae	1f
	ret
1:	negl	%eax
	movl	%eax, %edi
	jmp	__ukcov_raw_clone_errno
	.cfi_endproc
	.size	__ukcov_raw_vfork, .-__ukcov_raw_vfork

/*
 * clone(2) for a fully static program whose libc.a clone ukcov's replaced
 * (routes.c, UKCOV_ROUTE): glibc's calling convention, its system call.
 * int __ukcov_raw_clone(fn, stack, flags, arg, ptid, tls, ctid)
 */
	.globl	__ukcov_raw_clone
	.hidden	__ukcov_raw_clone
	.type	__ukcov_raw_clone, @function
	.p2align 4
__ukcov_raw_clone:
	.cfi_startproc
	ENDBR
	andq	$-16, %rsi		/* the child's stack: fn, arg on it */
	subq	$16, %rsi
	movq	%rcx, 8(%rsi)
	movq	%rdi, 0(%rsi)
	movl	%edx, %edi		/* clone(flags, stack, ptid, ctid, tls) */
	movq	%r8, %rdx
	movq	%r9, %r8
	movq	8(%rsp), %r10
	movl	$56, %eax		/* SYS_clone */
	syscall
	testq	%rax, %rax
	jl	1f
	jz	2f
	ret				/* the parent: the child's pid */
1:	negl	%eax			/* errno, through C */
	movl	%eax, %edi
	jmp	__ukcov_raw_clone_errno
2:	.cfi_undefined rip		/* the child: fn(arg), then exit */
	xorl	%ebp, %ebp
	popq	%rax
	popq	%rdi
	call	*%rax
	movl	%eax, %edi
	movl	$60, %eax		/* SYS_exit */
	syscall
	hlt
	.cfi_endproc
	.size	__ukcov_raw_clone, .-__ukcov_raw_clone
#endif

	.globl	__ukcov_lp_trampoline
	.hidden	__ukcov_lp_trampoline
	.type	__ukcov_lp_trampoline, @function
	.p2align 4
__ukcov_lp_trampoline:
	.cfi_startproc
	.cfi_undefined rip
	ENDBR
	leaq	-128(%rsp), %rsp	/* the frame's red zone */
	pushq	%rbp
	movq	%rsp, %rbp		/* %rbp = frame's sp - 136 */
	pushfq
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	andq	$-16, %rsp
	subq	$256, %rsp
	movdqu	%xmm0, 0(%rsp)
	movdqu	%xmm1, 16(%rsp)
	movdqu	%xmm2, 32(%rsp)
	movdqu	%xmm3, 48(%rsp)
	movdqu	%xmm4, 64(%rsp)
	movdqu	%xmm5, 80(%rsp)
	movdqu	%xmm6, 96(%rsp)
	movdqu	%xmm7, 112(%rsp)
	movdqu	%xmm8, 128(%rsp)
	movdqu	%xmm9, 144(%rsp)
	movdqu	%xmm10, 160(%rsp)
	movdqu	%xmm11, 176(%rsp)
	movdqu	%xmm12, 192(%rsp)
	movdqu	%xmm13, 208(%rsp)
	movdqu	%xmm14, 224(%rsp)
	movdqu	%xmm15, 240(%rsp)
	leaq	136(%rbp), %rdi		/* the frame's stack pointer */
	call	__ukcov_landing_pad	/* -> the landing pad, in %rax */
	movq	%rax, 128(%rbp)		/* at frame's sp - 8 */
	movdqu	0(%rsp), %xmm0
	movdqu	16(%rsp), %xmm1
	movdqu	32(%rsp), %xmm2
	movdqu	48(%rsp), %xmm3
	movdqu	64(%rsp), %xmm4
	movdqu	80(%rsp), %xmm5
	movdqu	96(%rsp), %xmm6
	movdqu	112(%rsp), %xmm7
	movdqu	128(%rsp), %xmm8
	movdqu	144(%rsp), %xmm9
	movdqu	160(%rsp), %xmm10
	movdqu	176(%rsp), %xmm11
	movdqu	192(%rsp), %xmm12
	movdqu	208(%rsp), %xmm13
	movdqu	224(%rsp), %xmm14
	movdqu	240(%rsp), %xmm15
	leaq	-80(%rbp), %rsp
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popfq
	popq	%rbp
	leaq	128(%rsp), %rsp		/* the frame's sp again (flags kept) */
	jmp	*-8(%rsp)
	.cfi_endproc
	.size	__ukcov_lp_trampoline, .-__ukcov_lp_trampoline
#endif

	.section .note.GNU-stack, "", @progbits
