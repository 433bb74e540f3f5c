#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/ncurses.h>

// Swift cannot see ncurses' function-like macros; these inline wrappers expose the few tlab needs.
static inline int tlab_color_pair(int n) { return COLOR_PAIR(n); }
static inline int tlab_getmaxy(WINDOW *w) { return getmaxy(w); }
static inline int tlab_getmaxx(WINDOW *w) { return getmaxx(w); }
