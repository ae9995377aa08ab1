# radio-healthmon tests.
#   unit:        cmocka, no network beyond loopback, no IPFS node
#   integration: the meter against ffmpeg's, the monitor against a fake live
#                station on the real test node and against loopback gateways
#                that misbehave, and a short libFuzzer run of the parsers.
function(healthmon_unit_test name)
  add_executable(${name} unit/${name}.c)
  target_link_libraries(${name} PRIVATE radio_healthmon_lib PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE RADIO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300)
endfunction()

healthmon_unit_test(test_healthmon_playlist)
healthmon_unit_test(test_healthmon_verify)
healthmon_unit_test(test_healthmon_audio)
healthmon_unit_test(test_healthmon_health)
healthmon_unit_test(test_healthmon_config)
healthmon_unit_test(test_healthmon_http)

# Python tests that need no IPFS node: the meter against ffmpeg's ebur128,
# and malformed playlists and segments from a loopback gateway. Label
# no_ipfs: tools/test-at-date.sh runs them at another date.
function(healthmon_script_test name)
  add_test(NAME ${name}
           COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/${name}.py
                   $<TARGET_FILE:radio-healthmon>)
  set_tests_properties(${name} PROPERTIES LABELS "integration;no_ipfs" TIMEOUT 900
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endfunction()
healthmon_script_test(test_healthmon_loudness)
healthmon_script_test(test_healthmon_robustness)

# A fake live station on the real test node (CTest fixture ipfs_node).
radio_integration_test(test_healthmon_station $<TARGET_FILE:radio-healthmon>)
# Its bounds, and test_healthmon_with_streamer's, are on real time (stale
# within so many seconds): they run alone, not beside a transcoding test.
set_tests_properties(test_healthmon_station PROPERTIES RUN_SERIAL ON)

# libFuzzer, built with clang in a small CMake project of its own and run
# for 20 s per CI run (tests/fuzz/run.sh DIR SECONDS runs it longer). Any
# finding, or a missing clang, fails the test.
add_test(NAME test_healthmon_fuzz
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run.sh ${CMAKE_CURRENT_BINARY_DIR}/healthmon-fuzz 20)
set_tests_properties(test_healthmon_fuzz PROPERTIES LABELS "integration;fuzz" TIMEOUT 600
                     ENVIRONMENT "RADIO_WERROR=${RADIO_WERROR}")

# The real chain: setup, the streamer publishing, healthmon listening.
radio_integration_test(test_healthmon_with_streamer $<TARGET_FILE:radio-healthmon>
                       $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
set_tests_properties(test_healthmon_with_streamer PROPERTIES RUN_SERIAL ON)
