// The TCP stream libgit2 uses for https:// (under TLS) and ssh:// (libssh2 reads its socket):
// geo-ssf's own, registered in place of libgit2's, so that its connects, reads and writes wait
// no longer than the calling thread's watch allows (watchdog.hpp) and its sockets can be shut
// by the watchdog.
#pragma once

namespace geo_ssf {

// Registers the stream with libgit2, once per process.
void install_socket_stream();

}  // namespace geo_ssf
