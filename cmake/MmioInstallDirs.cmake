# Where the files other programs look for are installed (systemd units,
# sysusers.d and tmpfiles.d entries, the journal catalog, the bash completion),
# and the config, whose path the installed mmiod.service names.
#
# `cmake --install build --prefix P` writes only under P: P/lib/systemd/system,
# P/lib/sysusers.d, P/lib/tmpfiles.d, P/lib/systemd/catalog,
# P/share/bash-completion/completions, P/etc/mmiod. The system's directories,
# from systemd.pc and bash-completion.pc (/lib/systemd/system on Debian 12;
# systemd reads units only from such places), are used for prefix /usr, and
# for any prefix with -DMMIO_INSTALL_SYSTEM_DIRS=ON. Prefix /usr also puts the
# config in /etc, as GNUInstallDirs does; an absolute CMAKE_INSTALL_SYSCONFDIR
# is used as it is. A directory set explicitly (-DMMIO_SYSTEMD_UNITDIR=...)
# always wins; a relative one is under the prefix. DESTDIR is honoured.
#
# All this is decided when installing, in cmake/MmioInstallTime.cmake: the
# prefix of `cmake --install --prefix P` need not be the configured one.

option(MMIO_INSTALL_SYSTEM_DIRS
       "Install the systemd and bash-completion files in the system's directories (systemd.pc, bash-completion.pc) whatever the prefix; always so for prefix /usr"
       OFF)
set(MMIO_INSTALL_TIME ${CMAKE_CURRENT_LIST_DIR}/MmioInstallTime.cmake)

# _mmio_quote(OUT VALUE): VALUE as a quoted CMake argument.
function(_mmio_quote out value)
  string(REPLACE "\\" "\\\\" value "${value}")
  string(REPLACE "\"" "\\\"" value "${value}")
  string(REPLACE "$" "\\$" value "${value}")
  set(${out} "\"${value}\"" PARENT_SCOPE)
endfunction()

# mmio_install_dir(VAR DOC PC_MODULE PC_VARIABLE PREFIX_RELATIVE): the cache
# variable VAR (empty: chosen at install time as above) for files installed by
# mmio_install_files(VAR ...). The system directory is PC_VARIABLE of
# PC_MODULE.pc, else /usr/PREFIX_RELATIVE; under another prefix they go to
# PREFIX/PREFIX_RELATIVE.
function(mmio_install_dir var doc module pc_variable prefix_relative)
  set(system "")
  if(PKG_CONFIG_FOUND)
    pkg_get_variable(system ${module} ${pc_variable})
  endif()
  # A build directory configured by mmiod 0.2.0 or older cached the .pc's directory as VAR (type PATH),
  # which would now count as set explicitly: forget it, so that it is chosen as above.
  get_property(type CACHE ${var} PROPERTY TYPE)
  if(type STREQUAL "PATH" AND system AND "${${var}}" STREQUAL "${system}")
    unset(${var} CACHE)
  endif()
  # STRING, not PATH: a relative -DVAR=dir is relative to the prefix, not to the current directory.
  set(${var} "" CACHE STRING
      "${doc}. Empty: under the prefix (PREFIX/${prefix_relative}), or for prefix /usr and with MMIO_INSTALL_SYSTEM_DIRS where ${module}.pc says; relative: under the prefix")
  if(NOT system AND IS_ABSOLUTE "${prefix_relative}")
    set(system "${prefix_relative}")
  elseif(NOT system)
    set(system "/usr/${prefix_relative}")
  endif()
  set_property(GLOBAL PROPERTY MMIO_INSTALL_DIR_${var} "${system}" "${prefix_relative}")
endfunction()

# mmio_install_files(VAR|SYSCONFDIR SUBDIR FILES... [RENAME NAME]): install
# FILES (relative to the current source directory) into VAR's directory, or
# for SYSCONFDIR into the config directory; SUBDIR ("" for none) below it.
function(mmio_install_files var subdir)
  cmake_parse_arguments(arg "" "RENAME" "" ${ARGN})
  set(files "")
  foreach(f ${arg_UNPARSED_ARGUMENTS})
    get_filename_component(f "${f}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    _mmio_quote(f "${f}")
    string(APPEND files " ${f}")
  endforeach()
  set(rename "")
  if(arg_RENAME)
    _mmio_quote(rename "${arg_RENAME}")
    set(rename "RENAME ${rename}")
  endif()
  _mmio_quote(include "${MMIO_INSTALL_TIME}")
  if(var STREQUAL "SYSCONFDIR")
    _mmio_quote(dir "${CMAKE_INSTALL_SYSCONFDIR}")
    set(resolve "mmio_full_sysconfdir(dir ${dir})")
  else()
    get_property(dirs GLOBAL PROPERTY MMIO_INSTALL_DIR_${var})
    if(NOT dirs)
      message(FATAL_ERROR "mmio_install_files(${var}): no mmio_install_dir(${var} ...) before")
    endif()
    list(GET dirs 0 system)
    list(GET dirs 1 prefix_relative)
    _mmio_quote(explicit "${${var}}")
    _mmio_quote(system "${system}")
    _mmio_quote(prefix_relative "${prefix_relative}")
    set(resolve "mmio_integration_dir(dir ${explicit} ${system} ${prefix_relative} ${MMIO_INSTALL_SYSTEM_DIRS})")
  endif()
  if(NOT subdir STREQUAL "")
    string(APPEND resolve "\nstring(APPEND dir \"/${subdir}\")")
  endif()
  install(CODE "include(${include})\n${resolve}\nfile(INSTALL DESTINATION \"\${dir}\" TYPE FILE ${rename} FILES${files})")
endfunction()
