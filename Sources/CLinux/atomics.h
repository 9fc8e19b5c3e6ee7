// Atomic loads and stores on raw memory Swift does not own (a shared file mapping), which the
// Synchronization module's `Atomic` cannot address. Used by the usage journal's record words.
#include <stdint.h>

static inline uint32_t plinth_load_acquire_u32(const void *p) {
    return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE);
}

static inline void plinth_store_release_u32(void *p, uint32_t value) {
    __atomic_store_n((uint32_t *)p, value, __ATOMIC_RELEASE);
}
