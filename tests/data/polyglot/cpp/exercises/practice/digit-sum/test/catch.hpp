// Catch2 v2 single header, from the image (Debian's catch2 package).
#include <catch2/catch.hpp>
