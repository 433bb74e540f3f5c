#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <spawn.h>
#include <ncursesw/ncurses.h>

// Swift cannot see ncurses' function-like macros; these inline wrappers expose the few tlab needs.
static inline int tlab_color_pair(int n) { return COLOR_PAIR(n); }
static inline int tlab_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int tlab_getmaxx(WINDOW *w) { return getmaxx(w); }

/// The attribute bits of one cell style (A_BOLD etc. are macros Swift cannot import).
static inline attr_t tlab_attributes(int bold, int dim, int reverse, int underline) {
    attr_t a = A_NORMAL;
    if (bold) a |= A_BOLD;
    if (dim) a |= A_DIM;
    if (reverse) a |= A_REVERSE;
    if (underline) a |= A_UNDERLINE;
    return a;
}

/// Sets the attributes and colour pair of stdscr, then writes `n` wide characters at (y, x).
static inline int tlab_put(int y, int x, const wchar_t *text, int n, attr_t attributes, short pair) {
    wattr_set(stdscr, attributes, pair, NULL);
    return mvwaddnwstr(stdscr, y, x, text, n);
}

static inline int tlab_key_f0(void) { return KEY_F0; }

/// posix_spawn's flag that starts the child in a session of its own (so the terminal's Ctrl-C, hang-up and
/// the workbench quitting never reach a training run).
static inline short tlab_spawn_setsid_flag(void) {
#if defined(POSIX_SPAWN_SETSID)
    return POSIX_SPAWN_SETSID;
#elif defined(__GLIBC__)
    return 0x80;  // glibc ≥ 2.26 defines it only under _GNU_SOURCE, which the Swift Glibc module was built without
#else
    return 0;
#endif
}
