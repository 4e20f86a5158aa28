// Package delivery owns delivery integrity (交付安全): the manifest a vendor hands over with
// each software delivery to a hospital, the SHA-256 and SM3 (GB/T 32905) digests of its
// artifacts, the optional signature over the manifest (SM2 per GB/T 32918, ECDSA P-256 or
// RSA with an X.509 certificate, or a bare Ed25519 key), and the check of the files a
// hospital received against that manifest. It does not store anything: storage, pages and
// commands build on Build, ParseManifest and Verify.
//
// # Manifest
//
// A manifest is a UTF-8 JSON document of at most MaxManifestSize bytes:
//
//	{
//	  "schema": "medguard.delivery/v1",
//	  "vendor": "东华软件", "product": "HIS", "version": "5.2.0",
//	  "delivery_id": "HIS-5.2.0-2026-11-01", "delivered_at": "2026-11-01T08:00:00Z",
//	  "artifacts": [
//	    {"name": "his-server-5.2.0.tar.gz", "size": 1048576, "sha256": "<hex>", "sm3": "<hex>"},
//	    {"name": "sbom/his-5.2.0.cdx.json", "size": 2048, "sha256": "<hex>", "sm3": "<hex>"}
//	  ],
//	  "signature": {
//	    "algorithm": "SM2-SM3",
//	    "certificate": "-----BEGIN CERTIFICATE-----\n…",
//	    "value": "<base64 signature>"
//	  }
//	}
//
// Every field except signature is required, and no other field is accepted; keys are
// case-sensitive and may not repeat. vendor, product, version and delivery_id are
// non-empty text without control characters (no tab, no newline). delivered_at is an RFC
// 3339 time; it is read into UTC. artifacts lists 1 to MaxArtifacts files, each with:
//
//   - name: the file's path inside the delivery, relative, with forward slashes, clean
//     (no "." or ".." element, no empty element, no leading or trailing slash, no
//     backslash, no drive letter, no control character) and unique;
//   - size: the file's length in bytes;
//   - sha256 and sm3: lower-case hex digests (64 digits each). One of them may be absent
//     but not both; both are expected, and Verify warns about an artifact lacking one.
//
// # Signature
//
// The signature covers a canonical text form of the manifest (see Manifest.Canonical),
// not the JSON, so that a vendor can produce it with a shell script:
//
//	medguard.delivery/v1
//	vendor<TAB>东华软件
//	product<TAB>HIS
//	version<TAB>5.2.0
//	delivery_id<TAB>HIS-5.2.0-2026-11-01
//	delivered_at<TAB>2026-11-01T08:00:00Z
//	artifact<TAB><name><TAB><size><TAB><sha256><TAB><sm3>
//
// with one artifact line per artifact sorted by the bytes of its name (LC_ALL=C sort), an
// absent digest written as an empty field, every line ending in "\n" (the last one too)
// and delivered_at written in UTC as by time.RFC3339Nano (whole seconds give
// "2026-11-01T08:00:00Z"). The signature "value" is base64 (standard alphabet, padded) of:
//
//   - SM2-SM3: an ASN.1 DER SM2 signature over the canonical bytes with the default user
//     id "1234567812345678" (GB/T 32918.2, GM/T 0009); certificate holds the signer's SM2
//     certificate in PEM;
//   - ECDSA-SHA256: an ASN.1 DER ECDSA P-256 signature over the SHA-256 of the canonical
//     bytes; certificate in PEM;
//   - RSA-PKCS1-SHA256: an RSA PKCS #1 v1.5 signature over the SHA-256 of the canonical
//     bytes, with a key of 2048 to 8192 bits; certificate in PEM;
//   - Ed25519: an Ed25519 signature over the canonical bytes; public_key holds the raw
//     32-byte public key in base64, and there is no certificate.
//
// A hospital registers each vendor's certificates or Ed25519 keys by SHA-256 fingerprint
// (Fingerprint): the SHA-256 of the certificate's DER (as `openssl x509 -fingerprint
// -sha256` prints it) or of the raw 32-byte Ed25519 key. A signature whose signer is not
// registered is "untrusted" however sound its mathematics; there is no chain building.
// A certificate must be valid both at delivered_at and at verification time, because
// delivered_at is the vendor's own claim.
package delivery
