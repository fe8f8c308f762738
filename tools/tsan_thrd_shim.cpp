// ThreadSanitizer builds only (-DKESM_TSAN=ON): GCC 12's and clang 14's
// TSan runtimes do not intercept C11 `thrd_create`, which Debian's
// librdkafka uses for its threads, so TSan crashes in those threads. This
// definition, linked into each executable, takes precedence over glibc's
// and starts the thread with pthread_create, which TSan does intercept.
// glibc's thrd_join reads the int result back from the pthread result.
#include <cerrno>
#include <cstdint>
#include <pthread.h>
#include <threads.h>

namespace {

struct start {
  thrd_start_t fn;
  void* arg;
};

void* trampoline(void* p) {
  auto s = *static_cast<start*>(p);
  delete static_cast<start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(s.fn(s.arg)));
}

} // namespace

extern "C" int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  auto* s = new start{fn, arg};
  if (pthread_create(thr, nullptr, trampoline, s) != 0) {
    delete s;
    return thrd_error;
  }
  return thrd_success;
}

// glibc's C11 mutexes and condition variables call its pthread functions
// internally, where TSan cannot see them; librdkafka's locking would look
// like no locking at all. Routed through the public pthread functions, TSan
// sees every lock.
extern "C" int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive)
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int rc = pthread_mutex_init(reinterpret_cast<pthread_mutex_t*>(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return rc == 0 ? thrd_success : thrd_error;
}

extern "C" int mtx_lock(mtx_t* m) {
  return pthread_mutex_lock(reinterpret_cast<pthread_mutex_t*>(m)) == 0
           ? thrd_success
           : thrd_error;
}

extern "C" int mtx_trylock(mtx_t* m) {
  int rc = pthread_mutex_trylock(reinterpret_cast<pthread_mutex_t*>(m));
  return rc == 0 ? thrd_success : (rc == EBUSY ? thrd_busy : thrd_error);
}

extern "C" int mtx_timedlock(mtx_t* m, const struct timespec* ts) {
  int rc = pthread_mutex_timedlock(reinterpret_cast<pthread_mutex_t*>(m), ts);
  return rc == 0 ? thrd_success
                 : (rc == ETIMEDOUT ? thrd_timedout : thrd_error);
}

extern "C" int mtx_unlock(mtx_t* m) {
  return pthread_mutex_unlock(reinterpret_cast<pthread_mutex_t*>(m)) == 0
           ? thrd_success
           : thrd_error;
}

extern "C" void mtx_destroy(mtx_t* m) {
  pthread_mutex_destroy(reinterpret_cast<pthread_mutex_t*>(m));
}

extern "C" int cnd_init(cnd_t* c) {
  return pthread_cond_init(reinterpret_cast<pthread_cond_t*>(c), nullptr) == 0
           ? thrd_success
           : thrd_error;
}

extern "C" int cnd_signal(cnd_t* c) {
  return pthread_cond_signal(reinterpret_cast<pthread_cond_t*>(c)) == 0
           ? thrd_success
           : thrd_error;
}

extern "C" int cnd_broadcast(cnd_t* c) {
  return pthread_cond_broadcast(reinterpret_cast<pthread_cond_t*>(c)) == 0
           ? thrd_success
           : thrd_error;
}

extern "C" int cnd_wait(cnd_t* c, mtx_t* m) {
  return pthread_cond_wait(reinterpret_cast<pthread_cond_t*>(c),
                           reinterpret_cast<pthread_mutex_t*>(m))
             == 0
           ? thrd_success
           : thrd_error;
}

extern "C" int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* ts) {
  int rc = pthread_cond_timedwait(reinterpret_cast<pthread_cond_t*>(c),
                                  reinterpret_cast<pthread_mutex_t*>(m), ts);
  return rc == 0 ? thrd_success
                 : (rc == ETIMEDOUT ? thrd_timedout : thrd_error);
}

extern "C" void cnd_destroy(cnd_t* c) {
  pthread_cond_destroy(reinterpret_cast<pthread_cond_t*>(c));
}

extern "C" int thrd_join(thrd_t thr, int* res) {
  void* out = nullptr;
  if (pthread_join(thr, &out) != 0)
    return thrd_error;
  if (res != nullptr)
    *res = static_cast<int>(reinterpret_cast<intptr_t>(out));
  return thrd_success;
}

extern "C" int thrd_detach(thrd_t thr) {
  return pthread_detach(thr) == 0 ? thrd_success : thrd_error;
}
