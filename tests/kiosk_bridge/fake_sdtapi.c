/* A fake vendor SDT library for tests/kiosk_bridge/test_sdt.py: the five functions of
 * the 公安部 reader interface, with one card on the reader. Its base message is laid
 * out here from the specification's field table (UCS-2 little-endian, padded with
 * spaces), independently of the driver that decodes it.
 *
 * fake_mode picks what the reader does; fake_port, fake_if_open and fake_closed
 * tell the test how it was called. Built with: gcc -shared -fPIC -o libsdtapi.so */
#include <string.h>
#include <uchar.h>

enum { CARD = 0, NO_CARD = 1, SHORT = 2, OPEN_FAILS = 3, NOT_TEXT = 4, READ_FAILS = 5 };

int fake_mode = CARD;
int fake_port = -1;
int fake_if_open = -1;
int fake_closed = 0;

/* name, sex, nation, birth, address, number, authority, valid from, valid to, reserved: bytes */
static const int WIDTHS[] = {30, 2, 4, 16, 70, 36, 30, 16, 16, 36};
static const char16_t *const FIELDS[] = {
    u"张三", u"1", u"01", u"19491231", u"北京市西城区复兴门外大街999号", u"11010519491231002X",
    u"北京市公安局西城分局", u"20200101", u"长期", u"",
};

int SDT_OpenPort(int port) {
    fake_port = port;
    return fake_mode == OPEN_FAILS ? 0x01 : 0x90;
}

int SDT_ClosePort(int port) {
    (void)port;
    fake_closed += 1;
    return 0x90;
}

int SDT_StartFindIDCard(int port, unsigned char *info, int if_open) {
    (void)port;
    fake_if_open = if_open;
    memset(info, 0, 4);
    return fake_mode == NO_CARD ? 0x80 : 0x9F;
}

int SDT_SelectIDCard(int port, unsigned char *info, int if_open) {
    (void)port; (void)if_open;
    memset(info, 0, 8);
    return 0x90;
}

int SDT_ReadBaseMsg(int port, unsigned char *text, unsigned int *text_len,
                    unsigned char *photo, unsigned int *photo_len, int if_open) {
    (void)port; (void)if_open;
    if (fake_mode == READ_FAILS) return 0x41;
    int at = 0;
    for (int f = 0; f < 10; f++) {
        int n = 0;
        for (; FIELDS[f][n] && 2 * n < WIDTHS[f]; n++) {
            text[at + 2 * n] = FIELDS[f][n] & 0xFF;
            text[at + 2 * n + 1] = FIELDS[f][n] >> 8;
        }
        for (; 2 * n < WIDTHS[f]; n++) {  /* padding: spaces */
            text[at + 2 * n] = ' ';
            text[at + 2 * n + 1] = 0;
        }
        at += WIDTHS[f];
    }
    if (fake_mode == NOT_TEXT) {  /* a lone surrogate in the name: not UCS-2 */
        text[0] = 0x00;
        text[1] = 0xD8;
    }
    *text_len = fake_mode == SHORT ? 100 : (unsigned int)at;
    memset(photo, 0x77, 1024);
    *photo_len = 1024;
    return 0x90;
}
