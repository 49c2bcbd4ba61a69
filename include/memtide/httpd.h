/* httpd.h - a tiny HTTP/1.0 server for one page: GET /metrics.
 *
 * It runs on a thread of its own and serves the last page published with
 * httpd_publish(); publishing swaps a pointer under a mutex and a client only
 * holds a reference to the page it is sending, so a slow or stalled client
 * never delays the publisher (memtided's sampler).  Up to HTTPD_MAX_CLIENTS
 * connections are served at once from one poll() loop.  Every input has a
 * budget, since any local user can connect: connections are always
 * accepted, and past HTTPD_MAX_CLIENTS the one that has been sending its
 * request the longest is evicted (counted: httpd_evicted()); the request
 * head must be in within HTTPD_HEAD_MS of connecting; its buffer exists
 * only until the answer is decided.
 *
 * What it answers:
 *   GET /metrics (a query string is ignored)  200, the page, as
 *       text/plain; version=0.0.4 (the Prometheus text format)
 *   GET before the first httpd_publish()      503
 *   any other method                          405, Allow: GET
 *   any other path                            404
 *   a Host header other than the address bound or localhost (with or
 *       without the port; bound to 0.0.0.0 or [::], any address literal):
 *       421 -- a web page in a local browser reaching here through DNS
 *       rebinding names its own site, never an address
 *   a request line or headers over HTTPD_MAX_REQUEST bytes   431
 *   anything unparsable                       400
 * then closes the connection (HTTP/1.0, no keep-alive).  A client that has
 * not sent its whole request HTTPD_HEAD_MS (or timeout_ms, if shorter)
 * after it connected, or not read the whole answer timeout_ms after, is
 * disconnected.
 *
 * Functions return 0 or -errno and never print.
 */
#ifndef MEMTIDE_HTTPD_H
#define MEMTIDE_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#define HTTPD_MAX_REQUEST 8192
#define HTTPD_MAX_CLIENTS 256
#define HTTPD_TIMEOUT_MS 5000
#define HTTPD_HEAD_MS 1000

struct httpd;

/* Checks an address as the metrics key takes it: "HOST:PORT" with a numeric
 * IPv4 host, "[IPV6]:PORT", or a bare "PORT" meaning 127.0.0.1:PORT.  No
 * name lookups.  PORT is 0-65535 (0: any free port).  Returns 0 or
 * -EINVAL. */
int httpd_check_addr(const char *addr);

/* Binds addr (as httpd_check_addr takes it) and starts serving on a new
 * thread; timeout_ms bounds each connection (0: HTTPD_TIMEOUT_MS).  The
 * socket is bound before it returns, so -EADDRINUSE, -EACCES or -EINVAL
 * come from here.  Returns 0 and *out, or -errno. */
int httpd_start(const char *addr, int timeout_ms, struct httpd **out);

/* Connections evicted or refused because every slot was taken. */
uint64_t httpd_evicted(struct httpd *h);

/* The port actually bound (useful after port 0). */
int httpd_port(const struct httpd *h);

/* Makes page (len bytes, malloc'd) the one served from now on; httpd takes
 * ownership and frees it when no client sends it any more.  Never blocks
 * on a client.  Returns 0, or -ENOMEM (page is freed). */
int httpd_publish(struct httpd *h, char *page, size_t len);

/* Stops the thread, closes every connection and frees everything. */
void httpd_stop(struct httpd *h);

#endif
