use super::test_key::*;
use super::*;
use crate::policy::dotnet::encoding::{from_base64, from_hex, to_hex};
use crate::policy::dotnet::error::ExceptionKind;

fn hex(s: &str) -> Vec<u8> {
    from_hex(s).unwrap()
}

#[test]
fn hash_vectors() {
    // FIPS 180-2 / RFC 1321 test vectors ("abc" and "").
    let cases = [
        (HashAlgorithm::Md5, "abc", "900150983CD24FB0D6963F7D28E17F72"),
        (HashAlgorithm::Md5, "", "D41D8CD98F00B204E9800998ECF8427E"),
        (HashAlgorithm::Sha1, "abc", "A9993E364706816ABA3E25717850C26C9CD0D89D"),
        (HashAlgorithm::Sha256, "abc", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
        (HashAlgorithm::Sha256, "", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
        (HashAlgorithm::Sha384, "abc", "CB00753F45A35E8BB5A03D699AC65007272C32AB0EDED1631A8B605A43FF5BED8086072BA1E7CC2358BAECA134C825A7"),
        (
            HashAlgorithm::Sha512,
            "abc",
            "DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F",
        ),
    ];
    for (alg, input, want) in cases {
        assert_eq!(to_hex(&compute_hash(alg, input.as_bytes())), want, "{alg:?} {input:?}");
    }
    assert_eq!(HashAlgorithm::from_name("SHA256Managed"), Some(HashAlgorithm::Sha256));
    assert_eq!(HashAlgorithm::from_name("HMACSHA1"), Some(HashAlgorithm::Sha1));
    assert_eq!(HashAlgorithm::from_name("SHA-512"), Some(HashAlgorithm::Sha512));
    assert_eq!(HashAlgorithm::from_name("SHA3"), None);
}

#[test]
fn hmac_vectors() {
    // RFC 4231 test cases 1, 2 and 6; RFC 2202 for HMAC-SHA1 and HMAC-MD5.
    let k1 = vec![0x0b; 20];
    let k6 = vec![0xaa; 131];
    let cases: Vec<(HashAlgorithm, Vec<u8>, &[u8], &str)> = vec![
        (HashAlgorithm::Sha256, k1.clone(), b"Hi There", "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7"),
        (HashAlgorithm::Sha384, k1.clone(), b"Hi There", "AFD03944D84895626B0825F4AB46907F15F9DADBE4101EC682AA034C7CEBC59CFAEA9EA9076EDE7F4AF152E8B2FA9CB6"),
        (
            HashAlgorithm::Sha512,
            k1,
            b"Hi There",
            "87AA7CDEA5EF619D4FF0B4241A1D6CB02379F4E2CE4EC2787AD0B30545E17CDEDAA833B7D6B8A702038B274EAEA3F4E4BE9D914EEB61F1702E696C203A126854",
        ),
        (HashAlgorithm::Sha256, b"Jefe".to_vec(), b"what do ya want for nothing?", "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"),
        (HashAlgorithm::Sha256, k6, b"Test Using Larger Than Block-Size Key - Hash Key First", "60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54"),
        (HashAlgorithm::Sha1, b"Jefe".to_vec(), b"what do ya want for nothing?", "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"),
        (HashAlgorithm::Md5, b"Jefe".to_vec(), b"what do ya want for nothing?", "750C783E6AB0B503EAA86E310A5DB738"),
    ];
    for (alg, key, data, want) in cases {
        assert_eq!(to_hex(&compute_hmac(alg, &key, data).unwrap()), want, "{alg:?}");
    }
    // The common APIM SAS-token shape: Base64(HMACSHA256(key, "uri\nexpiry")).
    let sig = compute_hmac(HashAlgorithm::Sha256, b"key", b"The quick brown fox jumps over the lazy dog").unwrap();
    assert_eq!(to_hex(&sig), "F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8");
}

#[test]
fn aes_nist_vectors() {
    // NIST SP 800-38A, F.1.1 / F.1.5 (ECB) and F.2.1 / F.2.5 (CBC), PaddingMode.None.
    let k128 = hex("2b7e151628aed2a6abf7158809cf4f3c");
    let k256 = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    let iv = hex("000102030405060708090a0b0c0d0e0f");
    let p = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let cases = [
        (&k128, CipherMode::Ecb, "3AD77BB40D7A3660A89ECAF32466EF97F5D3D58503B9699DE785895A96FDBAAF"),
        (&k256, CipherMode::Ecb, "F3EED1BDB5D2A03C064B5A7E3DB181F8591CCB10D410ED26DC5BA74A31362870"),
        (&k128, CipherMode::Cbc, "7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B2"),
        (&k256, CipherMode::Cbc, "F58C4C04D6E5F1BA779EABFB5F7BFBD69CFC4E967EDB808D679F777BC6702C7D"),
    ];
    for (key, mode, want) in cases {
        let c = aes_encrypt(&p, key, &iv, mode, PaddingMode::None).unwrap();
        assert_eq!(to_hex(&c), want, "{mode:?} {}", key.len());
        assert_eq!(aes_decrypt(&c, key, &iv, mode, PaddingMode::None).unwrap(), p);
    }
    // F.2.3 CBC-AES192 first block.
    let k192 = hex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b");
    let c = aes_encrypt(&p[..16], &k192, &iv, CipherMode::Cbc, PaddingMode::None).unwrap();
    assert_eq!(to_hex(&c), "4F021DB243BC633D7178183A9FA071E8");
}

#[test]
fn aes_padding_and_errors() {
    let key = [7u8; 16];
    let iv = [9u8; 16];
    for (pad, len) in
        [(PaddingMode::Pkcs7, 16), (PaddingMode::Zeros, 16), (PaddingMode::AnsiX923, 16), (PaddingMode::Iso10126, 16)]
    {
        let c = aes_encrypt(b"hello", &key, &iv, CipherMode::Cbc, pad).unwrap();
        assert_eq!(c.len(), len);
        let d = aes_decrypt(&c, &key, &iv, CipherMode::Cbc, pad).unwrap();
        if pad == PaddingMode::Zeros {
            assert_eq!(&d[..5], b"hello");
            assert_eq!(d.len(), 16, "Zeros padding is not removed, as .NET");
        } else {
            assert_eq!(d, b"hello");
        }
    }
    // A whole block of PKCS7 padding when the input is aligned.
    assert_eq!(aes_encrypt(&[1u8; 16], &key, &iv, CipherMode::Cbc, PaddingMode::Pkcs7).unwrap().len(), 32);
    let c = aes_encrypt(b"hello", &key, &iv, CipherMode::Cbc, PaddingMode::Pkcs7).unwrap();
    let e = aes_decrypt(&c, &[8u8; 16], &iv, CipherMode::Cbc, PaddingMode::Pkcs7).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str()),
        (ExceptionKind::Cryptographic, "Padding is invalid and cannot be removed.")
    );
    assert_eq!(
        aes_encrypt(b"x", &[1u8; 15], &iv, CipherMode::Cbc, PaddingMode::Pkcs7).unwrap_err().message,
        "Specified key is not a valid size for this algorithm."
    );
    assert!(aes_encrypt(b"x", &key, &[0u8; 8], CipherMode::Cbc, PaddingMode::Pkcs7).is_err());
    assert_eq!(
        aes_encrypt(b"x", &key, &iv, CipherMode::Cbc, PaddingMode::None).unwrap_err().message,
        "The input data is not a complete block."
    );
    assert!(aes_decrypt(&[0u8; 15], &key, &iv, CipherMode::Cbc, PaddingMode::Pkcs7).is_err());
    assert!(aes_encrypt(b"x", &key, &iv, CipherMode::Other, PaddingMode::Pkcs7).is_err());
}

#[test]
fn rsa_verification() {
    let n = hex(MODULUS_HEX);
    let key = RsaPublicKey::from_parameters(&n, &[1, 0, 1]).unwrap();
    assert_eq!(key.key_size(), 2048);
    let msg = b"hello ringgate";
    let s1 = hex(SIG_PKCS1_HEX);
    let s2 = hex(SIG_PSS_HEX);
    assert!(key.verify_data(msg, &s1, HashAlgorithm::Sha256, SignaturePadding::Pkcs1).unwrap());
    assert!(key.verify_data(msg, &s2, HashAlgorithm::Sha256, SignaturePadding::Pss).unwrap());
    assert!(!key.verify_data(msg, &s1, HashAlgorithm::Sha256, SignaturePadding::Pss).unwrap());
    assert!(!key.verify_data(b"tampered", &s1, HashAlgorithm::Sha256, SignaturePadding::Pkcs1).unwrap());
    assert!(!key.verify_data(msg, &s1[1..], HashAlgorithm::Sha256, SignaturePadding::Pkcs1).unwrap());
    let h = compute_hash(HashAlgorithm::Sha256, msg);
    assert!(key.verify_hash(&h, &s1, HashAlgorithm::Sha256, SignaturePadding::Pkcs1).unwrap());
    assert!(key.verify_hash(&h[1..], &s1, HashAlgorithm::Sha256, SignaturePadding::Pkcs1).is_err());
    let b64 = |b: &[u8]| crate::policy::dotnet::encoding::to_base64(b);
    let xml = format!("<RSAKeyValue><Modulus>{}</Modulus><Exponent>AQAB</Exponent></RSAKeyValue>", b64(&n));
    let from_xml = RsaPublicKey::from_xml(&xml).unwrap();
    assert!(from_xml.verify_data(msg, &s1, HashAlgorithm::Sha256, SignaturePadding::Pkcs1).unwrap());
    let cert = from_base64(CERT_B64).unwrap();
    let from_cert = RsaPublicKey::from_certificate_der(&cert).unwrap();
    assert_eq!(from_cert, key);
    assert!(RsaPublicKey::from_xml("<RSAKeyValue/>").is_err());
    assert!(RsaPublicKey::from_parameters(&[1, 2, 3], &[1, 0, 1]).is_err());
    assert!(RsaPublicKey::from_certificate_der(b"junk").is_err());
}

#[test]
fn x509_members() {
    // Values as openssl reports them for the test certificate; .NET prints the subject with
    // the last RDN first, as X509Certificate2.Subject does.
    let c = X509Certificate2::from_der(&from_base64(CLIENT_CERT_B64).unwrap()).unwrap();
    assert_eq!(c.thumbprint(), "6F8A06BCDD2F273A291803EB02BC6B8D297C25DC");
    assert_eq!(c.subject, "CN=client.contoso.com, OU=API, O=Contoso Ltd, C=US");
    assert_eq!(c.issuer, c.subject);
    assert_eq!(c.serial_number, "0A1B2C3D4E5F");
    assert_eq!(c.not_before.to_string_format("o").unwrap(), "2026-12-06T23:33:31.0000000+00:00");
    assert_eq!(c.not_after.to_dotnet_string(), "12/06/2027 23:33:31");
    assert_eq!(c.version, 3);
    assert_eq!(c.get_name_info(X509NameType::SimpleName), "client.contoso.com");
    assert_eq!(c.get_name_info(X509NameType::DnsName), "client.contoso.com");
    assert_eq!(c.get_name_info(X509NameType::EmailName), "");
    let inside = crate::policy::dotnet::datetime::DateTime::new(
        crate::policy::dotnet::datetime::Civil::date(2027, 1, 1),
        crate::policy::dotnet::datetime::DateTimeKind::Utc,
    )
    .unwrap();
    assert!(c.is_time_valid(inside));
    assert!(!c.is_time_valid(crate::policy::dotnet::datetime::DateTime::ymd(2030, 1, 1).unwrap()));
    assert_eq!(c.rsa_public_key().unwrap().key_size(), 2048);
    assert_eq!(X509Certificate2::from_der(b"nope").unwrap_err().kind, ExceptionKind::Cryptographic);
}
