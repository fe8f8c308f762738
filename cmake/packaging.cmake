# Debian packages by CPack (`cpack -G DEB` in the build directory, or
# scripts/package.sh):
#   kesm      the binary, the systemd unit, an example config
#   kesm-dev  the embedding API: header, libkesm.so/.a, CMake package, kesm.pc
# Depends are computed by dpkg-shlibdeps from the binaries.
include(GNUInstallDirs)

install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/kesm.service
  DESTINATION lib/systemd/system COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/examples/kesm.json
  ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

set(CPACK_PACKAGE_NAME kesm)
set(CPACK_PACKAGE_VENDOR "kesm")
set(CPACK_PACKAGE_CONTACT "kesm maintainers <kesm@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Lambda-compatible Kafka event source mapping runtime")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime embed)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME kesm)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION net)
set(CPACK_DEBIAN_EMBED_PACKAGE_NAME kesm-dev)
set(CPACK_DEBIAN_EMBED_PACKAGE_SECTION libdevel)
# The static library needs the -dev packages of what it links.
set(CPACK_DEBIAN_EMBED_PACKAGE_DEPENDS
  "libcaf-dev, librdkafka-dev, libcurl4-openssl-dev, libsqlite3-dev, libcpp-httplib-dev, prometheus-cpp-dev, libsimdjson-dev, libssl-dev, zlib1g-dev, libprotobuf-dev, libprotoc-dev")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "Lambda-compatible Kafka event source mapping runtime\n Reads Kafka topics in consumer groups, batches records and invokes\n functions with the event JSON AWS Lambda sends; at-least-once.")
set(CPACK_DEBIAN_EMBED_DESCRIPTION
  "kesm embedding API: run event source mappings in a C++ program\n The kesm/runtime.hpp header with shared and static libraries, a CMake\n package (find_package(kesm CONFIG)) and a pkg-config file.")
include(CPack)
