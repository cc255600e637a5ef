/* Test-only harness around spandsp (libspandsp-dev), compiled by the tests at run time.
 * It is never linked into tipring. Audio files are raw signed 16-bit little-endian, 8 kHz.
 *
 *   harness dtmf-rx IN              print the digits spandsp detects, one line
 *   harness dtmf-tx DIGITS OUT      spandsp DTMF (default level/timing) into OUT
 *   harness adsi-rx STD IN          print each message spandsp decodes, one hex line
 *                                   (STD: class | clip | clip-dtmf; FSK lines carry the
 *                                   message without its checksum, as spandsp delivers it)
 *   harness adsi-tx STD HEX OUT     spandsp caller-ID transmission of HEX (type, length and
 *                                   data, no checksum; clip-dtmf: the digit string as hex)
 *   harness dtmf-bench IN ROUNDS    time dtmf_rx over IN in 160-sample frames; prints
 *                                   "ns_per_frame <x>"
 *   harness echo TAPS MODE FAR NEAR OUT
 *                                   spandsp's echo_can of TAPS taps over the signal
 *                                   played to the line (FAR) and the one captured from it
 *                                   (NEAR); the cancelled signal into OUT. MODE is the
 *                                   adaption_mode bit set in hex (0x01 adaptation only;
 *                                   0x61 with its high-pass filters). Prints
 *                                   "ns_per_frame <x>" (per 160 samples) on stderr: the
 *                                   Debian build's echo_can writes debug lines to stdout,
 *                                   which is sent to /dev/null.
 *   harness modem-tx KIND MS OUT    MS milliseconds of spandsp's modem connect tone or
 *                                   V.21 signal into OUT; KIND: cng | ans | ans-pr |
 *                                   ansam | ansam-pr (modem_connect_tones_tx) or
 *                                   v21-flags (V.21 channel 2 FSK sending HDLC flags 0x7E,
 *                                   fsk_tx)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

static int16_t *read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *buf = malloc(len + 2);
    if (fread(buf, 1, len, f) != (size_t) len) { perror("read"); exit(2); }
    fclose(f);
    *n = len / 2;
    return buf;
}

static void write_raw(const char *path, const int16_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 2, n, f) != n) { perror(path); exit(2); }
    fclose(f);
}

static int standard(const char *s)
{
    if (!strcmp(s, "class")) return ADSI_STANDARD_CLASS;
    if (!strcmp(s, "clip")) return ADSI_STANDARD_CLIP;
    if (!strcmp(s, "clip-dtmf")) return ADSI_STANDARD_CLIP_DTMF;
    fprintf(stderr, "unknown standard %s\n", s);
    exit(2);
}

static void put_msg(void *user, const uint8_t *msg, int len)
{
    (void) user;
    for (int i = 0; i < len; i++) printf("%02x", msg[i]);
    printf("\n");
}

static void digits_cb(void *user, const char *d, int len)
{
    (void) user;
    fwrite(d, 1, len, stdout);
}

/* HDLC flags, 0x7E, least significant bit first. */
static int flag_bit(void *user)
{
    static int i;
    (void) user;
    return (0x7E >> (i++ & 7)) & 1;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "dtmf-rx")) {
        size_t n;
        int16_t *a = read_raw(argv[2], &n);
        dtmf_rx_state_t *rx = dtmf_rx_init(NULL, digits_cb, NULL);
        for (size_t i = 0; i < n; i += 160) dtmf_rx(rx, a + i, (n - i < 160) ? (int) (n - i) : 160);
        printf("\n");
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "dtmf-tx")) {
        dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
        dtmf_tx_put(tx, argv[2], -1);
        size_t cap = 8000 * 60, n = 0;
        int16_t *buf = calloc(cap, 2);
        n = 800; /* 100 ms of leading silence */
        for (;;) {
            int k = dtmf_tx(tx, buf + n, 160);
            if (k <= 0) break;
            n += k;
        }
        n += 800;
        write_raw(argv[3], buf, n);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "adsi-rx")) {
        size_t n;
        int16_t *a = read_raw(argv[3], &n);
        adsi_rx_state_t *rx = adsi_rx_init(NULL, standard(argv[2]), put_msg, NULL);
        for (size_t i = 0; i < n; i += 160) adsi_rx(rx, a + i, (n - i < 160) ? (int) (n - i) : 160);
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "adsi-tx")) {
        uint8_t msg[256];
        int len = 0;
        for (const char *p = argv[3]; p[0] && p[1] && len < 255; p += 2) {
            unsigned v;
            sscanf(p, "%2x", &v);
            msg[len++] = (uint8_t) v;
        }
        adsi_tx_state_t *tx = adsi_tx_init(NULL, standard(argv[2]));
        if (adsi_tx_put_message(tx, msg, len) <= 0) { fprintf(stderr, "adsi_tx_put_message refused\n"); return 2; }
        size_t cap = 8000 * 20, n = 800;
        int16_t *buf = calloc(cap, 2);
        for (;;) {
            int k = adsi_tx(tx, buf + n, 160);
            if (k <= 0 || n + 160 > cap - 1600) break;
            n += k;
        }
        n += 1600;
        write_raw(argv[4], buf, n);
        return 0;
    }
    if (argc >= 7 && !strcmp(argv[1], "echo")) {
        size_t nf, nn;
        int16_t *far = read_raw(argv[4], &nf);
        int16_t *near = read_raw(argv[5], &nn);
        size_t n = nf < nn ? nf : nn;
        int16_t *out = malloc(2 * n + 2);
        if (!freopen("/dev/null", "w", stdout)) { perror("/dev/null"); exit(2); }
        echo_can_state_t *ec = echo_can_init(atoi(argv[2]), (int) strtol(argv[3], NULL, 16));
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t i = 0; i < n; i++) out[i] = echo_can_update(ec, far[i], near[i]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "ns_per_frame %.0f\n", ns / ((double) n / 160.0));
        write_raw(argv[6], out, n);
        echo_can_free(ec);
        return 0;
    }
    if (argc >= 5 && !strcmp(argv[1], "modem-tx")) {
        size_t n = (size_t) atoi(argv[3]) * 8;
        int16_t *buf = calloc(n + 1, sizeof(int16_t));
        if (!strcmp(argv[2], "v21-flags")) {
            fsk_tx_state_t *tx = fsk_tx_init(NULL, &preset_fsk_specs[FSK_V21CH2], flag_bit, NULL);
            fsk_tx(tx, buf, (int) n);
        } else {
            int kind = !strcmp(argv[2], "cng") ? MODEM_CONNECT_TONES_FAX_CNG
                     : !strcmp(argv[2], "ans") ? MODEM_CONNECT_TONES_ANS
                     : !strcmp(argv[2], "ans-pr") ? MODEM_CONNECT_TONES_ANS_PR
                     : !strcmp(argv[2], "ansam") ? MODEM_CONNECT_TONES_ANSAM
                     : !strcmp(argv[2], "ansam-pr") ? MODEM_CONNECT_TONES_ANSAM_PR : -1;
            if (kind < 0) { fprintf(stderr, "unknown tone %s\n", argv[2]); exit(2); }
            modem_connect_tones_tx_state_t *tx = modem_connect_tones_tx_init(NULL, kind);
            modem_connect_tones_tx(tx, buf, (int) n);
        }
        write_raw(argv[4], buf, n);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "dtmf-bench")) {
        size_t n;
        int16_t *a = read_raw(argv[2], &n);
        int rounds = atoi(argv[3]);
        dtmf_rx_state_t *rx = dtmf_rx_init(NULL, digits_cb, NULL);
        size_t frames = 0;
        struct timespec t0, t1;
        freopen("/dev/null", "w", stdout);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int r = 0; r < rounds; r++)
            for (size_t i = 0; i + 160 <= n; i += 160) { dtmf_rx(rx, a + i, 160); frames++; }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        fprintf(stderr, "ns_per_frame %.1f\n", ns / frames);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of harness.c\n");
    return 2;
}
