# SPDX-License-Identifier: MIT
# What `cmake --install` puts where: the command, the libraries, the header,
# a CMake package (find_package(descent CONFIG) gives descent::descent, the
# shared library, and descent::descent_static) and a pkg-config file
# (descent.pc). Both are relocatable: they find the prefix from where they lie.
# Also the man page, the bash completion, the README, licence and docs/, and
# the user scripts; cmake/package.cmake makes .deb and .tar.gz packages of it.
include(CMakePackageConfigHelpers)
set(DESCENT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/descent)

install(TARGETS descent_cli)
install(TARGETS ${DESCENT_INSTALL_TARGETS} EXPORT descentTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/descent DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md" PATTERN "*.txt")
install(FILES docs/descent.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES scripts/completion/descent.bash RENAME descent
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
# what a user runs beside the command: the SLURM batch script (it finds
# descent on PATH), the metrics plot and the numpy reader of models
install(PROGRAMS scripts/plot_curves.sh scripts/read_model.py
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/descent/scripts)
install(PROGRAMS scripts/slurm/train.sbatch DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/descent/scripts/slurm)
install(EXPORT descentTargets NAMESPACE descent:: DESTINATION ${DESCENT_CMAKE_DIR})

configure_package_config_file(cmake/descentConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/descentConfig.cmake INSTALL_DESTINATION ${DESCENT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/descentConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/descentConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/descentConfigVersion.cmake
  DESTINATION ${DESCENT_CMAKE_DIR})

# pkg-config: the prefix is found from the .pc file's own directory
# (${pcfiledir}), so `cmake --install --prefix P` needs no reconfiguration.
set(pc_up "")
string(REPLACE "/" ";" pc_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(part IN LISTS pc_parts)
  string(APPEND pc_up "/..")
endforeach()
set(DESCENT_PC_PREFIX "\${pcfiledir}${pc_up}")
set(DESCENT_PC_DEPS "${OpenMP_C_FLAGS}")
if(DESCENT_WITH_MPI)
  foreach(lib IN LISTS MPI_C_LIBRARIES)
    string(APPEND DESCENT_PC_DEPS " ${lib}")
  endforeach()
endif()
string(APPEND DESCENT_PC_DEPS " -lm")
if(DESCENT_SHARED)
  set(DESCENT_PC_LIBS_PRIVATE "Libs.private: ${DESCENT_PC_DEPS}")
  set(DESCENT_PC_LIBS "-L\${libdir} -ldescent")
else()
  # only the static library: its dependencies are every link's business
  set(DESCENT_PC_LIBS_PRIVATE "")
  set(DESCENT_PC_LIBS "-L\${libdir} -ldescent ${DESCENT_PC_DEPS} -lz")
endif()
configure_file(cmake/descent.pc.in ${CMAKE_CURRENT_BINARY_DIR}/descent.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/descent.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
