//! Links spandsp (LGPL, dynamically: Debian's libspandsp2, headers and pkg-config file in
//! libspandsp-dev; for a cross build the target's multiarch package, found through
//! PKG_CONFIG_LIBDIR as for ALSA).

fn main() {
    if let Err(e) = pkg_config::Config::new()
        .atleast_version("0.0.6")
        .probe("spandsp")
    {
        panic!(
            "spandsp not found ({e}): install libspandsp-dev (for a cross build, \
             libspandsp-dev:<arch> and PKG_CONFIG_LIBDIR=/usr/lib/<multiarch>/pkgconfig), \
             or build without the `t38` feature"
        );
    }
}
