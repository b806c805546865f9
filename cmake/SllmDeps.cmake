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
find_package(Boost 1.74 REQUIRED)      # Header-only Asio and Beast (libboost-dev).
find_package(CURL REQUIRED)           # Hub downloads (libcurl4-openssl-dev).
find_package(OpenSSL REQUIRED)        # sha256 of downloaded weights (libssl-dev).
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

include(SllmTest)
