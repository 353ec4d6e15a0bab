/* SPDX-License-Identifier: MIT */
/*
 * What the tools read of ELF files, through elfutils' libelf: the build id,
 * symbols, DT_NEEDED entries and relocations.  The files may be hostile
 * (their paths come from the coverage file): they are opened with
 * ukf_open_regular() and read through libelf's checked accessors only.
 */
#ifndef UKCOV_TOOLS_ELF_H
#define UKCOV_TOOLS_ELF_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>

struct uke {
	int fd;
	Elf *elf;
};

/* Open a 64-bit ELF file of this machine's byte order.  0, or -1 with a
 * reason in err ("not an ELF file", ...). */
int uke_open(struct uke *e, const char *path, char *err, size_t errlen);
void uke_close(struct uke *e);

/* The GNU build id (*id points into libelf's copy); its length, 0 when
 * there is none. */
size_t uke_build_id(struct uke *e, const unsigned char **id);

/* Call fn for every named symbol of .symtab and .dynsym; stop when it
 * returns nonzero, and return that. */
int uke_symbols(struct uke *e,
		int (*fn)(const char *name, const GElf_Sym *sym, void *data),
		void *data);

/* Call fn for every DT_NEEDED entry; stop when it returns nonzero. */
int uke_needed(struct uke *e, int (*fn)(const char *name, void *data),
	       void *data);

/* Call fn for every RELA relocation whose symbol has a name: the place it
 * patches (r_offset), its type and the symbol's name. */
int uke_relocs(struct uke *e,
	       int (*fn)(const char *name, GElf_Addr where, unsigned int type,
			 void *data),
	       void *data);

#endif /* UKCOV_TOOLS_ELF_H */
