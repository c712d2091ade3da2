# Install-time half of cmake/MmioInstallDirs.cmake: included by the install(CODE)
# it generates, so it runs inside cmake_install.cmake. There CMAKE_INSTALL_PREFIX
# is the prefix of this install (`cmake --install build --prefix P` overrides
# the configured one), which is why the directories below are decided here and
# not at configure time. file(INSTALL) adds DESTDIR and records each file in
# install_manifest.txt, like the install() rules do.

# _mmio_prefix(OUT): the install prefix without trailing slashes ("" for "/").
function(_mmio_prefix out)
  string(REGEX REPLACE "/+$" "" p "${CMAKE_INSTALL_PREFIX}")
  set(${out} "${p}" PARENT_SCOPE)
endfunction()

# mmio_full_dir(OUT DIR): DIR if absolute, else PREFIX/DIR.
function(mmio_full_dir out dir)
  _mmio_prefix(p)
  if(NOT IS_ABSOLUTE "${dir}")
    set(dir "${p}/${dir}")
  endif()
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

# mmio_full_sysconfdir(OUT SYSCONFDIR): where the config goes. An absolute
# SYSCONFDIR as it is; for prefix /usr (a distribution's) /SYSCONFDIR, i.e.
# /etc, as GNUInstallDirs has it; any other prefix PREFIX/SYSCONFDIR. Unlike
# GNUInstallDirs, a prefix under /opt gets no /etc/opt: an install into a
# prefix stays under it.
function(mmio_full_sysconfdir out dir)
  _mmio_prefix(p)
  if(NOT IS_ABSOLUTE "${dir}" AND p STREQUAL "/usr")
    set(dir "/${dir}")
  endif()
  mmio_full_dir(dir "${dir}")
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

# mmio_integration_dir(OUT EXPLICIT SYSTEM PREFIX_RELATIVE SYSTEM_DIRS): the
# directory of a file some other program looks for (systemd, bash): EXPLICIT
# when set (relative to the prefix unless absolute); SYSTEM (from systemd.pc
# or bash-completion.pc) for prefix /usr or when SYSTEM_DIRS is true; else
# PREFIX/PREFIX_RELATIVE (PREFIX_RELATIVE itself if absolute).
function(mmio_integration_dir out explicit system prefix_relative system_dirs)
  _mmio_prefix(p)
  if(NOT explicit STREQUAL "")
    mmio_full_dir(dir "${explicit}")
  elseif(system_dirs OR p STREQUAL "/usr")
    set(dir "${system}")
  else()
    mmio_full_dir(dir "${prefix_relative}")
  endif()
  set(${out} "${dir}" PARENT_SCOPE)
endfunction()

# _mmio_unit_word(OUT PATH [PROGRAM]): PATH as one word of a unit file's
# command line: % doubled (specifiers), $ too unless PROGRAM (systemd expands
# variables in the arguments only), and in double quotes with \ and " escaped
# if it holds anything else a unit file would split or unescape.
function(_mmio_unit_word out path)
  if(ARGN STREQUAL "PROGRAM" AND path MATCHES "[\"']|\\\\")
    message(WARNING "mmiod.service: systemd refuses a program path with quotes or backslashes: ${path}")
  endif()
  string(REPLACE "%" "%%" w "${path}")
  if(NOT ARGN STREQUAL "PROGRAM")
    string(REPLACE "$" "$$" w "${w}")
  endif()
  if(NOT w MATCHES "^[A-Za-z0-9/._+:,=@%$-]+$")
    string(REPLACE "\\" "\\\\" w "${w}")
    string(REPLACE "\"" "\\\"" w "${w}")
    set(w "\"${w}\"")
  endif()
  set(${out} "${w}" PARENT_SCOPE)
endfunction()

# mmio_generate_unit(TEMPLATE OUTPUT SBINDIR SYSCONFDIR): TEMPLATE with its
# "ExecStart=/usr/sbin/mmiod --config /etc/mmiod/mmiod.conf" naming the mmiod
# and the config of this install, and every other mention of
# /etc/mmiod/mmiod.conf (comments) the config's path.
function(mmio_generate_unit template output sbindir sysconfdir)
  mmio_full_dir(sbin "${sbindir}")
  mmio_full_sysconfdir(etc "${sysconfdir}")
  _mmio_unit_word(prog "${sbin}/mmiod" PROGRAM)
  _mmio_unit_word(conf "${etc}/mmiod/mmiod.conf")
  file(READ "${template}" unit)
  set(line "ExecStart=/usr/sbin/mmiod --config /etc/mmiod/mmiod.conf --fd-store\n")
  string(FIND "${unit}" "\n${line}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${template}: no '${line}' line to point at the installed mmiod")
  endif()
  # The comments first, so that the new ExecStart= (which may contain
  # "/etc/mmiod/mmiod.conf" as a tail) is not rewritten again.
  string(REPLACE "\n${line}" "\n@MMIO_EXEC_START@\n" unit "${unit}")
  string(REPLACE "/etc/mmiod/mmiod.conf" "${etc}/mmiod/mmiod.conf" unit "${unit}")
  string(REPLACE "@MMIO_EXEC_START@" "ExecStart=${prog} --config ${conf} --fd-store" unit "${unit}")
  file(WRITE "${output}" "${unit}")
endfunction()
