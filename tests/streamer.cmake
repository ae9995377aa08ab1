# radio-streamer tests.
add_executable(test_timeline unit/test_timeline.c)
target_link_libraries(test_timeline PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_timeline COMMAND test_timeline)
set_tests_properties(test_timeline PROPERTIES LABELS unit TIMEOUT 600)
