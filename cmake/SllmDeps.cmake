# Third-party dependencies, all from Debian 12 packages (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(Protobuf REQUIRED)         # Debian's protobuf has no CMake config: FindProtobuf.
find_package(gRPC CONFIG REQUIRED)      # Needs protobuf-compiler-grpc for grpc_cpp_plugin.
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(GTest REQUIRED)
find_package(glog REQUIRED)
find_package(gflags REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n data)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

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
