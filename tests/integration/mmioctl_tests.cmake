# test_mmioctl: the mmioctl binary against a real mmiod. Included from
# tests/integration/CMakeLists.txt after mmio_test() and the mmio-test-daemon
# fixture library are defined. The test spawns mmioctl by its build path,
# through cli.c (mmioctl-specific checks) and tests/helpers/spawn_proc.c (pipes).
mmio_test(test_mmioctl integration
          SOURCES test_mmioctl.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_mmioctl mmioctl)

# test_mmioctl_ops: modify and poll, and the script's modify, poll, block and FIFO lines.
mmio_test(test_mmioctl_ops integration
          SOURCES test_mmioctl_ops.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_ops PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_mmioctl_ops mmioctl)

# test_stats: the Stats request, STATUS= and `mmioctl stats` in its three formats.
mmio_test(test_stats integration
          SOURCES test_stats.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-client mmio-test-daemon)
target_compile_definitions(test_stats PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_stats mmioctl)

# test_mmioctl_json: -q, -o json on every command, dump ranges, write --verify.
mmio_test(test_mmioctl_json integration
          SOURCES test_mmioctl_json.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_json PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_mmioctl_json mmioctl)

# test_mmioctl_sim: the device side of a sim region (sim get|set|irq|reset).
mmio_test(test_mmioctl_sim integration
          SOURCES test_mmioctl_sim.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_sim PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>"
                                                    MMIO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(test_mmioctl_sim mmioctl)

# test_mmioctl_errors: errors in the user's terms (numbers, no daemon, hints, -o json usage errors).
mmio_test(test_mmioctl_errors integration
          SOURCES test_mmioctl_errors.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_errors PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_mmioctl_errors mmioctl)

# test_mmioctl_address: -a/--address on devmem regions over a stand-in for /dev/mem.
mmio_test(test_mmioctl_address integration
          SOURCES test_mmioctl_address.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_address PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>")
add_dependencies(test_mmioctl_address mmioctl)

# man_pages: every docs/man/*.scd renders (scdoc, groff) without markup left in the text.
add_test(NAME man_pages
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/check_man_pages.sh ${CMAKE_SOURCE_DIR}/docs/man)
set_tests_properties(man_pages PROPERTIES LABELS integration SKIP_RETURN_CODE 77)

# completion: the bash and zsh completions know every command and option of mmioctl's tables
# (mmioctl --list-commands).
find_program(MMIO_PYTHON3 python3)
if(MMIO_PYTHON3)
  add_test(NAME completion
           COMMAND ${MMIO_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/check_completion.py
                   $<TARGET_FILE:mmioctl> ${CMAKE_SOURCE_DIR}/tools/completion/mmioctl.bash
                   ${CMAKE_SOURCE_DIR}/tools/completion/_mmioctl)
  set_tests_properties(completion PROPERTIES LABELS integration)
endif()

# test_mmioctl_names: registers by name (read, write, fields, regs, dump --decode, run) against
# regions with register maps.
mmio_test(test_mmioctl_names integration
          SOURCES test_mmioctl_names.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-test-daemon)
target_compile_definitions(test_mmioctl_names PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>"
                                                      MMIO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(test_mmioctl_names mmioctl)
# test_mmioctl_regmap: `mmioctl regmap import` on ARM's example SVD file, no daemon; its output
# read back with config/regmap_yaml.c.
mmio_test(test_mmioctl_regmap integration
          SOURCES test_mmioctl_regmap.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmiod-core)
target_compile_definitions(test_mmioctl_regmap PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>"
                           MMIO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(test_mmioctl_regmap mmioctl)

# test_trace: TraceSubscribe on every path, `mmioctl trace` and `mmioctl replay` on sim UARTs.
mmio_test(test_trace integration
          SOURCES test_trace.c uart_driver.c cli.c ${CMAKE_SOURCE_DIR}/tests/helpers/spawn_proc.c
          LIBS mmio-client mmio-test-daemon)
target_compile_definitions(test_trace PRIVATE MMIOCTL_PATH="$<TARGET_FILE:mmioctl>"
                           MMIO_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(test_trace mmioctl)
