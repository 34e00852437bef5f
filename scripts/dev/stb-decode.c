/*
 * Decodes JPEGs the way Darknet does (stbi_load(path, &w, &h, &c, 3)) and writes each as a binary PPM, so
 * test/fixtures/jpeg-stb can hold stb_image's exact pixels. This file holds no stb_image code: it needs a copy of
 * stb_image.h on the include path. Build (see test/fixtures/jpeg-stb/README.md for the copy used):
 *   cc -O2 -I DIR_WITH_STB_IMAGE_H -o stb-decode scripts/dev/stb-decode.c -lm
 * Or against Debian's prebuilt library (libstb-dev):
 *   cc -O2 -DUSE_SYSTEM_LIBSTB -I /usr/include/stb -o stb-decode scripts/dev/stb-decode.c -lstb
 * Usage: stb-decode in.jpg out.ppm [in2.jpg out2.ppm ...]; prints stb's failure reason and exits 1 on error.
 */
#ifndef USE_SYSTEM_LIBSTB
#define STB_IMAGE_IMPLEMENTATION
#endif
#include "stb_image.h"
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc < 3 || argc % 2 == 0) {
    fprintf(stderr, "usage: %s in.jpg out.ppm [...]\n", argv[0]);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    int w, h, c;
    unsigned char *rgb = stbi_load(argv[i], &w, &h, &c, 3);
    if (!rgb) {
      fprintf(stderr, "%s: %s\n", argv[i], stbi_failure_reason());
      return 1;
    }
    FILE *f = fopen(argv[i + 1], "wb");
    if (!f) {
      perror(argv[i + 1]);
      return 1;
    }
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    fwrite(rgb, 1, (size_t)w * h * 3, f);
    fclose(f);
    stbi_image_free(rgb);
  }
  return 0;
}
