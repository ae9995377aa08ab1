# radio-streamer tests.
add_executable(test_timeline unit/test_timeline.c unit/timeline_fixture.c)
target_link_libraries(test_timeline PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_timeline COMMAND test_timeline)
set_tests_properties(test_timeline PROPERTIES LABELS unit TIMEOUT 600)

# What is coming (state_dir/schedule.json) from the timeline, on a fake clock.
add_executable(test_upcoming unit/test_upcoming.c unit/timeline_fixture.c)
target_link_libraries(test_upcoming PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_upcoming COMMAND test_upcoming)
set_tests_properties(test_upcoming PROPERTIES LABELS unit)

# processed/queue.json: parsing, resolving, and what the timeline does with it, on a fake clock.
add_executable(test_queue unit/test_queue.c unit/timeline_fixture.c)
target_link_libraries(test_queue PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_queue COMMAND test_queue)
set_tests_properties(test_queue PROPERTIES LABELS unit)

# Station IDs on the clock (processed/clock.json), hours of a station on a fake clock.
add_executable(test_station_ids unit/test_station_ids.c unit/timeline_fixture.c)
target_link_libraries(test_station_ids PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_station_ids COMMAND test_station_ids)
set_tests_properties(test_station_ids PROPERTIES LABELS unit)

add_executable(test_streamer_config unit/test_streamer_config.c)
target_link_libraries(test_streamer_config PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
target_compile_definitions(test_streamer_config PRIVATE RADIO_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_test(NAME test_streamer_config COMMAND test_streamer_config)
set_tests_properties(test_streamer_config PROPERTIES LABELS unit)

add_executable(test_ipns_seq unit/test_ipns_seq.c)
target_link_libraries(test_ipns_seq PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_ipns_seq COMMAND test_ipns_seq)
set_tests_properties(test_ipns_seq PROPERTIES LABELS unit)

add_executable(test_key_cmd unit/test_key_cmd.c)
target_link_libraries(test_key_cmd PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_key_cmd COMMAND test_key_cmd)
set_tests_properties(test_key_cmd PROPERTIES LABELS unit)

add_executable(test_record_publisher unit/test_record_publisher.c)
target_link_libraries(test_record_publisher PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_record_publisher COMMAND test_record_publisher)
set_tests_properties(test_record_publisher PROPERTIES LABELS unit)

add_executable(test_playlist_ring unit/test_playlist_ring.c)
target_link_libraries(test_playlist_ring PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_playlist_ring COMMAND test_playlist_ring)
set_tests_properties(test_playlist_ring PROPERTIES LABELS unit)

add_executable(test_order_load unit/test_order_load.c)
target_link_libraries(test_order_load PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_order_load COMMAND test_order_load)
set_tests_properties(test_order_load PROPERTIES LABELS unit)

add_executable(test_standby_adopt unit/test_standby_adopt.c unit/timeline_fixture.c)
target_link_libraries(test_standby_adopt PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_standby_adopt COMMAND test_standby_adopt)
set_tests_properties(test_standby_adopt PROPERTIES LABELS unit)

# processed/ rewritten with broken, valid and broken files again while on air.
radio_integration_test(test_streamer_inputs $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)

add_executable(test_m3u8_render unit/test_m3u8_render.c)
target_link_libraries(test_m3u8_render PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_m3u8_render COMMAND test_m3u8_render)
set_tests_properties(test_m3u8_render PROPERTIES LABELS unit)

add_executable(test_recover unit/test_recover.c unit/timeline_fixture.c)
target_link_libraries(test_recover PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_recover COMMAND test_recover)
set_tests_properties(test_recover PROPERTIES LABELS unit)

# Start-up whatever it finds: processed/ broken (the kept order plays), no
# good order at all (a clear refusal), state/ lost (the name's timeline
# goes on), a publish the node did but reported failed (its playlist stays).
radio_integration_test(test_streamer_recovery $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)

# The deciding program's contract: a script reads schedule.json, adds a
# track cut elsewhere, queues it with a library track and a jingle, and
# checks from the gateway that they aired where status.json acknowledged.
radio_integration_test(test_streamer_queue $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)

# Station IDs on the clock: setup's station_id_every_minutes of 0.3, read
# back from the gateway: at most 18 s apart, at track boundaries, never two
# in a row, forecast in schedule.json, across a kill -9 and restart.
radio_integration_test(test_streamer_station_ids $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
radio_integration_test(test_streamer_dayparts $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)


# Both move the streamer's clock with libfaketime, which cannot be preloaded
# into a sanitizer build (ASan must be the first library loaded).
if(NOT RADIO_SANITIZE)
  # Windows of playlists larger than one block: deleted playlists leave the
  # node with all their blocks (a node of its own, a pre-roll a window ago).
  radio_integration_test(test_streamer_storage $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
  # The wall clock stepped back an hour on air and across a restart.
  radio_integration_test(test_streamer_clock $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
endif()

# Fault injection: a fault proxy before the node, 50 kill -9, lost state, a
# second instance; an independent validator reads every playlist served.
radio_integration_test(test_streamer_faults $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
set_tests_properties(test_streamer_faults PROPERTIES LABELS "integration;faults;slow" TIMEOUT 900)

add_executable(test_status unit/test_status.c)
target_link_libraries(test_status PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_status COMMAND test_status)
set_tests_properties(test_status PROPERTIES LABELS unit)
add_executable(test_status_screen unit/test_status_screen.c)
target_link_libraries(test_status_screen PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_status_screen COMMAND test_status_screen)
set_tests_properties(test_status_screen PROPERTIES LABELS unit)
add_executable(test_streamer_metrics unit/test_streamer_metrics.c)
target_link_libraries(test_streamer_metrics PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_streamer_metrics COMMAND test_streamer_metrics)
set_tests_properties(test_streamer_metrics PROPERTIES LABELS unit)
# Two streamers on two Kubo nodes with one station key: the one on air
# killed ten times at random instants (seeded, the seed printed), the other
# takes over; validators read both gateways. Its bounds are on real time.
add_test(NAME test_failover
         COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_failover.py
                 $<TARGET_FILE:radio-setup> $<TARGET_FILE:radio-streamer>)
set_tests_properties(test_failover PROPERTIES LABELS "integration;slow" TIMEOUT 900 RUN_SERIAL ON
                     ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")

add_executable(test_dayparts unit/test_dayparts.c unit/timeline_fixture.c)
target_link_libraries(test_dayparts PRIVATE radio_streamer_lib PkgConfig::CMOCKA)
add_test(NAME test_dayparts COMMAND test_dayparts)
set_tests_properties(test_dayparts PROPERTIES LABELS unit)
