/* libsrtp2 (the system library, linked with -lsrtp2) as the peer of sipher's SRTP, for
 * core/tests/srtp_libsrtp2.rs. Unlike pylibsrtp, it reaches every SDES suite, including
 * AES_256_CM_HMAC_SHA1_80/_32 (srtp_crypto_policy_set_aes_cm_256_hmac_sha1_*).
 *
 *   cc -O2 -o libsrtp_peer scripts/srtp/libsrtp_peer.c -lsrtp2
 *   libsrtp_peer PROFILE OURS THEIRS < commands
 *
 * PROFILE is an SDES suite name; OURS and THEIRS are master key||salt in hex. An inbound session
 * keyed with OURS unprotects, an outbound one keyed with THEIRS protects. Each stdin line is
 * "OP HEX" with OP one of unprotect_rtp, unprotect_rtcp, protect_rtp, protect_rtcp; each gets
 * one stdout line: the resulting packet in hex, or "error N" with libsrtp's status code.
 * Exit status 2 on bad arguments or a session libsrtp refuses to create. */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 2048

typedef void (*policy_setter)(srtp_crypto_policy_t *);

struct suite {
    const char *name;
    size_t key_salt_len;
    policy_setter rtp;
    policy_setter rtcp;
};

/* The _32 suites keep an 80-bit SRTCP tag (RFC 4568 §6.2), as libsrtp's own profiles do. */
static const struct suite SUITES[] = {
    {"AES_CM_128_HMAC_SHA1_80", 30, srtp_crypto_policy_set_rtp_default,
     srtp_crypto_policy_set_rtp_default},
    {"AES_CM_128_HMAC_SHA1_32", 30, srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
     srtp_crypto_policy_set_rtp_default},
    {"AES_256_CM_HMAC_SHA1_80", 46, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AES_256_CM_HMAC_SHA1_32", 46, srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
     srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80},
    {"AEAD_AES_128_GCM", 28, srtp_crypto_policy_set_aes_gcm_128_16_auth,
     srtp_crypto_policy_set_aes_gcm_128_16_auth},
    {"AEAD_AES_256_GCM", 44, srtp_crypto_policy_set_aes_gcm_256_16_auth,
     srtp_crypto_policy_set_aes_gcm_256_16_auth},
};

static int unhex(const char *hex, unsigned char *out, size_t cap) {
    size_t n = strlen(hex);
    if (n % 2 != 0 || n / 2 > cap)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            return -1;
        out[i] = (unsigned char)byte;
    }
    return (int)(n / 2);
}

static srtp_t session(const struct suite *s, const char *key_hex, srtp_ssrc_type_t type) {
    /* srtp_create derives the session keys from it and keeps no pointer to it. */
    unsigned char key[64];
    if (unhex(key_hex, key, sizeof key) != (int)s->key_salt_len) {
        fprintf(stderr, "libsrtp_peer: %s takes %zu key+salt bytes\n", s->name, s->key_salt_len);
        exit(2);
    }
    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    s->rtp(&policy.rtp);
    s->rtcp(&policy.rtcp);
    policy.ssrc.type = type;
    policy.key = key;
    policy.window_size = 128;
    policy.next = NULL;
    srtp_t out = NULL;
    srtp_err_status_t err = srtp_create(&out, &policy);
    if (err != srtp_err_status_ok) {
        fprintf(stderr, "libsrtp_peer: srtp_create(%s) failed: %d\n", s->name, (int)err);
        exit(2);
    }
    return out;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: libsrtp_peer PROFILE OURS_HEX THEIRS_HEX < commands\n");
        return 2;
    }
    const struct suite *s = NULL;
    for (size_t i = 0; i < sizeof SUITES / sizeof SUITES[0]; i++)
        if (strcmp(SUITES[i].name, argv[1]) == 0)
            s = &SUITES[i];
    if (s == NULL) {
        fprintf(stderr, "libsrtp_peer: unknown profile %s\n", argv[1]);
        return 2;
    }
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "libsrtp_peer: srtp_init failed\n");
        return 2;
    }
    srtp_t rx = session(s, argv[2], ssrc_any_inbound);
    srtp_t tx = session(s, argv[3], ssrc_any_outbound);

    static char line[2 * MAX_PACKET + 64];
    /* Room for the trailer libsrtp appends in place (SRTP_MAX_TRAILER_LEN, +4 for SRTCP). */
    static unsigned char buf[MAX_PACKET + SRTP_MAX_TRAILER_LEN + 4];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char op[32], hex[2 * MAX_PACKET + 1];
        if (sscanf(line, "%31s %4096s", op, hex) != 2) {
            fprintf(stderr, "libsrtp_peer: bad line\n");
            return 2;
        }
        int len = unhex(hex, buf, MAX_PACKET);
        if (len < 0) {
            fprintf(stderr, "libsrtp_peer: bad hex\n");
            return 2;
        }
        srtp_err_status_t err;
        if (strcmp(op, "unprotect_rtp") == 0)
            err = srtp_unprotect(rx, buf, &len);
        else if (strcmp(op, "unprotect_rtcp") == 0)
            err = srtp_unprotect_rtcp(rx, buf, &len);
        else if (strcmp(op, "protect_rtp") == 0)
            err = srtp_protect(tx, buf, &len);
        else if (strcmp(op, "protect_rtcp") == 0)
            err = srtp_protect_rtcp(tx, buf, &len);
        else {
            fprintf(stderr, "libsrtp_peer: unknown op %s\n", op);
            return 2;
        }
        if (err != srtp_err_status_ok) {
            printf("error %d\n", (int)err);
            continue;
        }
        for (int i = 0; i < len; i++)
            printf("%02x", buf[i]);
        printf("\n");
    }
    srtp_dealloc(rx);
    srtp_dealloc(tx);
    srtp_shutdown();
    return 0;
}
