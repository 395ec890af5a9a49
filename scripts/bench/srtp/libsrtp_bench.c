/* libsrtp2 (the system library) timed the way core/examples/srtp_bench.rs times sipher: RTP
 * packets with a 160-byte payload, keys 0x11.., salt 0x22.., SSRC 0x12345678. Run by
 * scripts/bench/srtp-bench.sh, which compiles it with cc -O2 and puts both in one table.
 *
 *   libsrtp_bench N REPS
 *
 * For AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, REPS times each (fresh sessions every rep):
 * protect+unprotect of N packets one after the other (round trip), then protect of N packets
 * kept in memory, then unprotect of those. Prints "version <libsrtp version>" and, per profile,
 * "PROFILE ROUNDTRIP PROTECT UNPROTECT": the median over the reps of ns per packet. */
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEADER 12
#define PAYLOAD 160
/* One slot per stored packet: RTP plus the largest trailer libsrtp may append. */
#define SLOT (HEADER + PAYLOAD + SRTP_MAX_TRAILER_LEN)

typedef void (*policy_setter)(srtp_crypto_policy_t *);

struct profile {
    const char *name;
    size_t key_len, salt_len;
    policy_setter set;
};

static const struct profile PROFILES[] = {
    {"AES_CM_128_HMAC_SHA1_80", 16, 14, srtp_crypto_policy_set_rtp_default},
    {"AEAD_AES_128_GCM", 16, 12, srtp_crypto_policy_set_aes_gcm_128_16_auth},
};

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static srtp_t session(const struct profile *p, srtp_ssrc_type_t type) {
    unsigned char key[64];
    memset(key, 0x11, p->key_len);
    memset(key + p->key_len, 0x22, p->salt_len);
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    p->set(&policy.rtp);
    p->set(&policy.rtcp);
    policy.ssrc.type = type;
    policy.key = key;
    policy.window_size = 128;
    srtp_t s = NULL;
    if (srtp_create(&s, &policy) != srtp_err_status_ok) {
        fprintf(stderr, "libsrtp_bench: srtp_create(%s) failed\n", p->name);
        exit(1);
    }
    return s;
}

/* The packet sipher's bench builds: V=2, PT 0, seq i, timestamp 160*i, zero payload. */
static void packet(unsigned char *buf, uint32_t i) {
    memset(buf, 0, HEADER + PAYLOAD);
    buf[0] = 0x80;
    buf[2] = (unsigned char)(i >> 8);
    buf[3] = (unsigned char)i;
    uint32_t ts = i * 160;
    buf[4] = (unsigned char)(ts >> 24);
    buf[5] = (unsigned char)(ts >> 16);
    buf[6] = (unsigned char)(ts >> 8);
    buf[7] = (unsigned char)ts;
    buf[8] = 0x12;
    buf[9] = 0x34;
    buf[10] = 0x56;
    buf[11] = 0x78;
}

static void check(srtp_err_status_t err, const char *what) {
    if (err != srtp_err_status_ok) {
        fprintf(stderr, "libsrtp_bench: %s failed: %d\n", what, (int)err);
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[2]) <= 0) {
        fprintf(stderr, "usage: libsrtp_bench N REPS\n");
        return 2;
    }
    uint32_t n = (uint32_t)atoi(argv[1]);
    int reps = atoi(argv[2]);
    check(srtp_init(), "srtp_init");
    printf("version %s\n", srtp_get_version_string());
    unsigned char *store = malloc((size_t)n * SLOT);
    int *lens = malloc((size_t)n * sizeof(int));
    double *rt = malloc((size_t)reps * sizeof(double));
    double *pr = malloc((size_t)reps * sizeof(double));
    double *un = malloc((size_t)reps * sizeof(double));
    if (!store || !lens || !rt || !pr || !un) {
        fprintf(stderr, "libsrtp_bench: out of memory\n");
        return 1;
    }
    for (size_t k = 0; k < sizeof PROFILES / sizeof PROFILES[0]; k++) {
        const struct profile *p = &PROFILES[k];
        for (int r = 0; r < reps; r++) {
            unsigned char buf[SLOT];
            srtp_t tx = session(p, ssrc_any_outbound), rx = session(p, ssrc_any_inbound);
            double t0 = now_ns();
            for (uint32_t i = 0; i < n; i++) {
                int len = HEADER + PAYLOAD;
                packet(buf, i);
                check(srtp_protect(tx, buf, &len), "srtp_protect");
                check(srtp_unprotect(rx, buf, &len), "srtp_unprotect");
            }
            rt[r] = (now_ns() - t0) / n;
            srtp_dealloc(tx);
            srtp_dealloc(rx);

            tx = session(p, ssrc_any_outbound);
            rx = session(p, ssrc_any_inbound);
            t0 = now_ns();
            for (uint32_t i = 0; i < n; i++) {
                unsigned char *slot = store + (size_t)i * SLOT;
                lens[i] = HEADER + PAYLOAD;
                packet(slot, i);
                check(srtp_protect(tx, slot, &lens[i]), "srtp_protect");
            }
            pr[r] = (now_ns() - t0) / n;
            t0 = now_ns();
            for (uint32_t i = 0; i < n; i++)
                check(srtp_unprotect(rx, store + (size_t)i * SLOT, &lens[i]), "srtp_unprotect");
            un[r] = (now_ns() - t0) / n;
            srtp_dealloc(tx);
            srtp_dealloc(rx);
        }
        printf("%s %.1f %.1f %.1f\n", p->name, median(rt, reps), median(pr, reps),
               median(un, reps));
    }
    srtp_shutdown();
    return 0;
}
