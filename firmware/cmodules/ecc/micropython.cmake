# The ecc module built into a firmware, for CMake-based ports (esp32, rp2, ...):
#
#   make -C ports/esp32 USER_C_MODULES=/path/to/firmware/cmodules/ecc/micropython.cmake
#
# py/usermod.cmake includes this file; the usermod target collects the sources.

add_library(usermod_ecc INTERFACE)

# C only: the core's .S files are for the lx106 (ESP8266), a make-based port.
file(GLOB ECC_CORE_SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/*.c)

target_sources(usermod_ecc INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modecc.c
    ${ECC_CORE_SOURCES}
)

# No include directories: modecc.c includes "core/ecc.h" and the core its
# headers by relative path, and an interface include directory would reach the
# whole firmware, where a header name of the core could shadow another.

target_link_libraries(usermod INTERFACE usermod_ecc)
