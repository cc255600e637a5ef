//! A test CA and leaf certificates signed by it, written as PEM files (rcgen).

use std::path::{Path, PathBuf};

/// `dir/ca.pem` and, for each `(file, name)`, `dir/<file>.pem` and `dir/<file>.key`: a
/// certificate for `name` (a host name or an IP address) signed by the CA.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    pub fn new(dir: &Path, ca_name: &str, leaves: &[(&str, &str)]) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, ca_name);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        for (file, name) in leaves {
            let leaf = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = leaf.signed_by(&key, &ca_cert, &ca_key).unwrap();
            std::fs::write(dir.join(format!("{file}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{file}.key")), key.serialize_pem()).unwrap();
        }
        Pki {
            dir: dir.to_owned(),
        }
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }
}
