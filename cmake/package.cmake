# SPDX-License-Identifier: MIT
# Packages of what `cmake --install` writes (cmake/install.cmake):
#   cpack -G DEB     descent_<version>_<arch>.deb, prefix /usr
#   cpack -G TGZ     descent-<version>-Linux.tar.gz, relocatable
# run in the build directory. The .deb's dependencies come from
# dpkg-shlibdeps (the libraries the command and libdescent.so link).
set(CPACK_PACKAGE_NAME descent)
set(CPACK_PACKAGE_VENDOR "The descent authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_GENERATOR TGZ)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.ci-work/")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "The descent authors")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "trains fully connected neural networks by backpropagation and gradient\n descent on many cores (OpenMP) and many machines (MPI); a command and a C\n library (libdescent.so, libdescent.a, a CMake package and descent.pc).")
# the .deb installs into /usr; the tarball keeps the relative layout
set(CPACK_PACKAGING_INSTALL_PREFIX "")
set(CPACK_DEBIAN_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
