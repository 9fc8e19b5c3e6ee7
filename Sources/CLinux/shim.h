// Linux headers Glibc's Swift module does not expose. No _GNU_SOURCE here:
// it turns sockaddr parameters into a transparent union Swift cannot pass.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/mount.h>
#include <signal.h>
#include <sched.h>

extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
extern int unshare(int flags);

#ifndef SOCK_NONBLOCK
#define SOCK_NONBLOCK 04000
#endif
#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC 02000000
#endif
static const int plinth_sock_nonblock = SOCK_NONBLOCK;
static const int plinth_sock_cloexec = SOCK_CLOEXEC;
static const unsigned int plinth_epollin = EPOLLIN;
static const unsigned int plinth_epollout = EPOLLOUT;
static const unsigned int plinth_epollerr = EPOLLERR;
static const unsigned int plinth_epollhup = EPOLLHUP;
static const unsigned int plinth_epollrdhup = EPOLLRDHUP;
static const unsigned int plinth_epollet = EPOLLET;
static const unsigned int plinth_epolloneshot = EPOLLONESHOT;

// PlinthHTTP: socket options and flags used by the event loops and the client.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
static const unsigned int plinth_epollexclusive = EPOLLEXCLUSIVE;
static const int plinth_msg_nosignal = MSG_NOSIGNAL;
static const int plinth_tcp_nodelay = TCP_NODELAY;
static const int plinth_efd_nonblock = EFD_NONBLOCK;
static const int plinth_efd_cloexec = EFD_CLOEXEC;
