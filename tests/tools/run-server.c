// SPDX-License-Identifier: MIT
/*
 * A small loopback server for run-server.sh, modelled on the servers
 * ukcov-run is used on (memcached's workers, a thread pool): an acceptor
 * hands connections to NWORKERS worker threads, which answer
 * line-based requests ("get K", "set K V", "quit") from a table under a
 * lock; a maintenance thread ticks every millisecond.  Instrumented and
 * linked with libukcov by run-lib.bash; it calls nothing of ukcov's.
 *
 *   run-server serve READY   listen on 127.0.0.1, an ephemeral port,
 *                            written to READY once accepting; ends when
 *                            a client sends "shutdown"
 *   run-server load PORT CONNS REQS   CONNS connections, REQS requests
 *                            each, then "shutdown"; prints the replies'
 *                            checksum (the client: never collected)
 *
 * Markers (noinline, ending with a store): m_srv_get, m_srv_set in the
 * workers' code, m_srv_tick in the maintenance thread's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NWORKERS 4
#define NKEYS 1024

volatile int sink;
#define MARKER(name)                                                           \
	__attribute__((noinline)) void name(void);                             \
	__attribute__((noinline)) void name(void)                              \
	{                                                                      \
		__atomic_add_fetch(&sink, 1, __ATOMIC_RELAXED);               \
	}
MARKER(m_srv_get)
MARKER(m_srv_set)
MARKER(m_srv_tick)

static void die(const char *what)
{
	fprintf(stderr, "run-server: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- the server ---------------------------------------------------------- */

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static long table[NKEYS];
static int stopping;		/* atomic */

/* A queue of accepted connections, one slot per worker. */
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static int queue[64], q_head, q_tail;

static void q_push(int fd)
{
	pthread_mutex_lock(&q_mu);
	queue[q_tail++ % 64] = fd;
	pthread_cond_signal(&q_cv);
	pthread_mutex_unlock(&q_mu);
}

static int q_pop(void)
{
	int fd;

	pthread_mutex_lock(&q_mu);
	while (q_head == q_tail)
		pthread_cond_wait(&q_cv, &q_mu);
	fd = queue[q_head++ % 64];
	pthread_mutex_unlock(&q_mu);
	return fd;
}

/* One request line; the reply in out.  Returns 1 to shut down. */
static int handle(char *line, char *out, size_t outlen)
{
	long k, v;

	if (sscanf(line, "get %ld", &k) == 1) {
		m_srv_get();
		pthread_mutex_lock(&table_mu);
		v = table[(unsigned long)k % NKEYS];
		pthread_mutex_unlock(&table_mu);
		snprintf(out, outlen, "%ld\n", v);
	} else if (sscanf(line, "set %ld %ld", &k, &v) == 2) {
		m_srv_set();
		pthread_mutex_lock(&table_mu);
		table[(unsigned long)k % NKEYS] = v;
		pthread_mutex_unlock(&table_mu);
		snprintf(out, outlen, "ok\n");
	} else if (!strncmp(line, "shutdown", 8)) {
		snprintf(out, outlen, "bye\n");
		return 1;
	} else {
		snprintf(out, outlen, "error\n");
	}
	return 0;
}

static int listen_fd;

static void *worker(void *a)
{
	char buf[4096], out[64];

	(void)a;
	for (;;) {
		int fd = q_pop(), quit = 0;
		size_t have = 0;
		ssize_t n;

		if (fd < 0)
			return NULL;
		while (!quit && (n = read(fd, buf + have,
					  sizeof(buf) - 1 - have)) > 0) {
			char *p = buf, *nl;

			have += (size_t)n;
			buf[have] = 0;
			while (!quit && (nl = strchr(p, '\n'))) {
				size_t len;

				*nl = 0;
				quit = handle(p, out, sizeof(out));
				len = strlen(out);
				if (write(fd, out, len) != (ssize_t)len)
					quit = 1;
				p = nl + 1;
			}
			have -= (size_t)(p - buf);
			memmove(buf, p, have);
		}
		close(fd);
		if (quit == 1 && strstr(out, "bye")) {
			__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
			shutdown(listen_fd, SHUT_RDWR);
		}
	}
}

static void *ticker(void *a)
{
	struct timespec ms = { 0, 1000000 };

	(void)a;
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		m_srv_tick();
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static int serve(const char *ready)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	pthread_t w[NWORKERS], t;
	FILE *f;
	char tmp[4096];
	int i, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(listen_fd, 64) ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &sl))
		die("listen");
	for (i = 0; i < NWORKERS; i++)
		if (pthread_create(&w[i], NULL, worker, NULL))
			die("pthread_create");
	if (pthread_create(&t, NULL, ticker, NULL))
		die("pthread_create");
	/* Written whole, then renamed: the reader never sees half a port. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f) ||
	    rename(tmp, ready))
		die(ready);
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			q_push(fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			break;
	}
	for (i = 0; i < NWORKERS; i++)
		q_push(-1);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(t, NULL);
	close(listen_fd);
	return 0;
}

/* ---- the client ------------------------------------------------------------ */

static int connect_to(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* One request, its reply's first line. */
static void ask(FILE *in, int fd, const char *req, char *reply, size_t len)
{
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    !fgets(reply, (int)len, in))
		die("request");
}

static int load(int port, int conns, long reqs)
{
	unsigned long sum = 0;
	char req[64], reply[64];
	int c;
	long i;

	for (c = 0; c < conns; c++) {
		int fd = connect_to(port);
		FILE *in = fdopen(dup(fd), "r");

		if (!in)
			die("fdopen");
		for (i = 0; i < reqs; i++) {
			if (i % 4 == 0)
				snprintf(req, sizeof(req), "set %ld %ld\n",
					 i % 97, i + c);
			else
				snprintf(req, sizeof(req), "get %ld\n",
					 i % 97);
			ask(in, fd, req, reply, sizeof(reply));
			sum = sum * 31 + strtoul(reply, NULL, 10);
		}
		fclose(in);
		close(fd);
	}
	c = connect_to(port);
	{
		FILE *in = fdopen(dup(c), "r");

		if (!in)
			die("fdopen");
		ask(in, c, "shutdown\n", reply, sizeof(reply));
		fclose(in);
	}
	close(c);
	printf("%lu\n", sum);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "load"))
		return load(atoi(argv[2]), atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: run-server serve READY | "
			"load PORT CONNS REQS\n");
	return 2;
}
