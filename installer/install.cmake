# What `cmake --install` puts beside the binaries, and the .deb CPack builds from it
# (installer/package.sh). Man pages, bash completion, the desktop entry and the icon are
# always installed; the system service (unit, /etc/portico/porticod.json, the low-ports
# drop-in, the maintainer scripts' users) only with PORTICO_SYSTEM_SERVICE, which the
# package turns on: it belongs to a /usr install whose postinst creates group 'portico'.
option(PORTICO_SYSTEM_SERVICE "Install porticod.service and /etc/portico/porticod.json" OFF)

set(res ${PROJECT_SOURCE_DIR}/resources)
install(FILES ${res}/man/porticod.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${res}/man/porticoctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
if(PORTICO_BUILD_DASHBOARD)
    install(FILES ${res}/man/portico-dashboard.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
    install(FILES ${res}/desktop/portico-dashboard.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
    install(FILES ${res}/icons/portico-dashboard.svg
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
install(FILES ${res}/completion/porticoctl DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${res}/config/porticod.example.json ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

if(PORTICO_SYSTEM_SERVICE)
    configure_file(${res}/systemd/porticod.service.in ${PROJECT_BINARY_DIR}/porticod.service @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/porticod.service DESTINATION lib/systemd/system)
    install(FILES ${res}/systemd/low-ports.conf DESTINATION ${CMAKE_INSTALL_DATADIR}/portico/systemd)
    # porticod reads /etc/portico/porticod.json when run by root: the path is fixed,
    # whatever the prefix.
    install(FILES ${res}/config/porticod.json DESTINATION /etc/portico)
endif()

# Every command in README.md is run by CI exactly as written (installer/readme-check.sh).
if(PORTICO_BUILD_TESTS)
    add_test(NAME readme_commands COMMAND ${PROJECT_SOURCE_DIR}/installer/readme-check.sh)
endif()

# ---- the .deb ----------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME portico)
set(CPACK_PACKAGE_VENDOR "Portico")
set(CPACK_PACKAGE_CONTACT "Portico maintainers <portico@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ingress, project ports and backends of a host, as one daemon")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "porticod owns every listener of a small host: an HTTP ingress routing /<project>/ by\n"
    "path prefix, per-project ports (http, tcp, udp), and the backends it starts and\n"
    "supervises. porticoctl and portico-dashboard drive it over its admin socket.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # portico_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON) # Qt and libc from dpkg-shlibdeps
set(CPACK_STRIP_FILES ON) # debug info stays in the build
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/installer/debian/postinst ${PROJECT_SOURCE_DIR}/installer/debian/prerm
    ${PROJECT_SOURCE_DIR}/installer/debian/postrm ${PROJECT_SOURCE_DIR}/installer/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
