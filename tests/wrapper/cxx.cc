// SPDX-License-Identifier: MIT
/*
 * The fixture's C++ program: templates, exceptions and a thread, built by
 * ukcov-c++ and linked with the fixture's library.  It collects its own
 * coverage through ukcov's API and checks that PCs of its own code and of
 * the library's function were collected.  Exit 0 = pass.
 */
#include <cstdio>
#include <dlfcn.h>
#include <map>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <thread>

#include <ukcov.h>

#include "fixture.h"

namespace {

template <typename T> T checked_half(T v)
{
	if (v % 2)
		throw std::invalid_argument("odd");
	return v / 2;
}

int count_words(const std::string &s)
{
	std::map<std::string, int> seen;
	std::string w;

	for (char c : s) {
		if (c == ' ') {
			if (!w.empty())
				seen[w]++;
			w.clear();
		} else {
			w += c;
		}
	}
	if (!w.empty())
		seen[w]++;
	return static_cast<int>(seen.size());
}

} // namespace

int main()
{
	const unsigned long words = 1 << 16;
	int fd = ukcov_open();
	if (fd < 0 || ukcov_ioctl(fd, KCOV_INIT_TRACE, words))
		return 1;
	auto *cover = static_cast<unsigned long *>(
		ukcov_mmap(nullptr, words * sizeof(long),
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	if (cover == MAP_FAILED || ukcov_ioctl(fd, KCOV_ENABLE, KCOV_TRACE_PC))
		return 1;
	__atomic_store_n(&cover[0], 0, __ATOMIC_RELAXED);

	int r = count_words("a b a c") + fixture_lib_classify(3);
	try {
		r += checked_half(7);
	} catch (const std::invalid_argument &) {
		r += 100;
	}
	std::thread t([&r] { r += checked_half(4); });
	t.join();

	unsigned long n = __atomic_load_n(&cover[0], __ATOMIC_ACQUIRE);
	ukcov_ioctl(fd, KCOV_DISABLE, 0UL);
	/* PCs in this executable, and in the library's function. */
	Dl_info self;
	unsigned long mine = 0, lib = 0;
	if (!dladdr(reinterpret_cast<void *>(&count_words), &self))
		return 1;
	for (unsigned long i = 0; i < n; i++) {
		Dl_info d;

		if (!dladdr(reinterpret_cast<void *>(cover[i + 1]), &d))
			continue;
		if (d.dli_fbase == self.dli_fbase)
			mine++;
		if (d.dli_sname &&
		    std::string(d.dli_sname) == "fixture_lib_classify")
			lib++;
	}
	std::printf("C++: %lu PCs, %lu in the program, %lu in the library, "
		    "result %d\n", n, mine, lib, r);
	ukcov_close(fd);
	return mine > 0 && lib > 0 && r == 106 ? 0 : 1;
}
