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
 *   harness fax-pages N OUT         N fax pages (1728 pixels wide, 1100 rows at 204 x 98
 *                                   dpi, a different pattern on each) as a TIFF-F file
 *                                   (T.4 1-D), with libtiff
 *   harness tiff-compare A B        compares two fax TIFFs page by page, pixel row by
 *                                   pixel row; prints "pages <a> <b> rows_differing <n>"
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tiffio.h>
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
    if (argc >= 4 && !strcmp(argv[1], "fax-pages")) {
        int pages = atoi(argv[2]);
        TIFF *t = TIFFOpen(argv[3], "w");
        if (!t) { fprintf(stderr, "cannot write %s\n", argv[3]); exit(2); }
        uint8_t row[1728 / 8];
        for (int p = 0; p < pages; p++) {
            TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 1728);
            TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1100);
            TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
            TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
            TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
            TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, 0);
            TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
            TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
            TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
            TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0f);
            TIFFSetField(t, TIFFTAG_YRESOLUTION, 98.0f);
            TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
            TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 1100);
            TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
            TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
            for (int y = 0; y < 1100; y++) {
                memset(row, 0, sizeof(row));
                for (int x = 0; x < 1728; x++) {
                    /* A border, a diagonal per page, and blocks whose size names the page. */
                    int on = x < 8 || x >= 1720 || y < 8 || y >= 1092
                          || abs(x - (y * (p + 1)) % 1728) < 3
                          || (((x / (16 * (p + 1))) + (y / 24)) % 2 == 0 && y > 400 && y < 700);
                    if (on) row[x / 8] |= 0x80 >> (x % 8);
                }
                if (TIFFWriteScanline(t, row, y, 0) < 0) { fprintf(stderr, "write\n"); exit(2); }
            }
            TIFFWriteDirectory(t);
        }
        TIFFClose(t);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "tiff-compare")) {
        TIFF *a = TIFFOpen(argv[2], "r");
        TIFF *b = TIFFOpen(argv[3], "r");
        if (!a || !b) { fprintf(stderr, "cannot read the files\n"); exit(2); }
        int pa = TIFFNumberOfDirectories(a), pb = TIFFNumberOfDirectories(b);
        long differing = 0;
        for (int p = 0; p < pa && p < pb; p++) {
            uint32_t wa, ha, wb, hb;
            TIFFSetDirectory(a, p);
            TIFFSetDirectory(b, p);
            TIFFGetField(a, TIFFTAG_IMAGEWIDTH, &wa);
            TIFFGetField(a, TIFFTAG_IMAGELENGTH, &ha);
            TIFFGetField(b, TIFFTAG_IMAGEWIDTH, &wb);
            TIFFGetField(b, TIFFTAG_IMAGELENGTH, &hb);
            if (wa != wb || ha != hb) { differing += ha > hb ? ha : hb; continue; }
            tmsize_t n = TIFFScanlineSize(a);
            uint8_t *ra = malloc(n), *rb = malloc(n);
            for (uint32_t y = 0; y < ha; y++) {
                if (TIFFReadScanline(a, ra, y, 0) < 0 || TIFFReadScanline(b, rb, y, 0) < 0
                    || memcmp(ra, rb, n))
                    differing++;
            }
            free(ra);
            free(rb);
        }
        printf("pages %d %d rows_differing %ld\n", pa, pb, differing);
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
