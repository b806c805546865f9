# Test registration shared by the full build and the worker-only build.
# sllm_test(NAME SOURCES... LIBS ...): a GoogleTest binary registered with CTest.
function(sllm_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    SLLM_SOURCE_DIR="${SLLM_SOURCE_DIR}" SLLM_TESTDATA_DIR="${SLLM_TESTDATA_DIR}"
    SLLM_MODELS_DIR="${SLLM_MODELS_DIR}" SLLM_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
