// SPDX-License-Identifier: MIT
/*
 * ELF through elfutils' libelf (see ukcov-elf.h): libelf checks every
 * section, string and entry against the file's size; this file only walks
 * what it returns.
 */
#include <elfutils/libdwelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ukcov-elf.h"
#include "ukcov-file.h"

int uke_open(struct uke *e, const char *path, char *err, size_t errlen)
{
	static bool init;
	GElf_Ehdr eh;

	e->elf = NULL;
	if (!init) {
		if (elf_version(EV_CURRENT) == EV_NONE) {
			snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
			return -1;
		}
		init = true;
	}
	e->fd = ukf_open_regular(path, err, errlen);
	if (e->fd < 0)
		return -1;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh)) {
		snprintf(err, errlen, "not an ELF file");
		goto bad;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
					    ? ELFDATA2LSB
					    : ELFDATA2MSB)) {
		snprintf(err, errlen, "not a 64-bit ELF file of this machine");
		goto bad;
	}
	return 0;
bad:
	uke_close(e);
	return -1;
}

void uke_close(struct uke *e)
{
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	e->elf = NULL;
	e->fd = -1;
}

size_t uke_build_id(struct uke *e, const unsigned char **id)
{
	const void *p;
	ssize_t n = dwelf_elf_gnu_build_id(e->elf, &p);

	if (n <= 0)
		return 0;
	*id = p;
	return (size_t)n;
}

int uke_symbols(struct uke *e,
		int (*fn)(const char *name, const GElf_Sym *sym, void *data),
		void *data)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t j, n;
		int r;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		n = d->d_size / sh.sh_entsize;
		for (j = 1; j < n; j++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(d, (int)j, &sym))
				break;
			name = elf_strptr(e->elf, sh.sh_link, sym.st_name);
			if (name && *name && (r = fn(name, &sym, data)))
				return r;
		}
	}
	return 0;
}

int uke_needed(struct uke *e, int (*fn)(const char *name, void *data),
	       void *data)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t j, n;
		int r;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		n = d->d_size / sh.sh_entsize;
		for (j = 0; j < n; j++) {
			GElf_Dyn dyn;
			const char *name;

			if (!gelf_getdyn(d, (int)j, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_NEEDED)
				continue;
			name = elf_strptr(e->elf, sh.sh_link, dyn.d_un.d_val);
			if (name && (r = fn(name, data)))
				return r;
		}
	}
	return 0;
}

int uke_relocs(struct uke *e,
	       int (*fn)(const char *name, GElf_Addr where, unsigned int type,
			 void *data),
	       void *data)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e->elf, scn))) {
		Elf_Scn *symscn;
		GElf_Shdr sh, symsh;
		Elf_Data *d, *syms;
		size_t j, n;
		int r;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !sh.sh_entsize)
			continue;
		symscn = elf_getscn(e->elf, sh.sh_link);
		if (!symscn || !gelf_getshdr(symscn, &symsh) ||
		    (symsh.sh_type != SHT_DYNSYM && symsh.sh_type != SHT_SYMTAB))
			continue;
		d = elf_getdata(scn, NULL);
		syms = elf_getdata(symscn, NULL);
		if (!d || !syms)
			continue;
		n = d->d_size / sh.sh_entsize;
		for (j = 0; j < n; j++) {
			GElf_Rela rela;
			GElf_Sym sym;
			const char *name;

			if (!gelf_getrela(d, (int)j, &rela))
				break;
			if (!GELF_R_SYM(rela.r_info) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(rela.r_info), &sym))
				continue;
			name = elf_strptr(e->elf, symsh.sh_link, sym.st_name);
			if (name && *name &&
			    (r = fn(name, rela.r_offset,
				    (unsigned int)GELF_R_TYPE(rela.r_info), data)))
				return r;
		}
	}
	return 0;
}
