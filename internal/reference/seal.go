package reference

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// KeySize is the size of the secret in reference.key.
const KeySize = 32

// KeyFile is the name of the key file in the data directory.
const KeyFile = "reference.key"

// sealedPrefix marks a sealed value: "sm4gcm:" + base64(nonce ‖ ciphertext).
const sealedPrefix = "sm4gcm:"

// Labels of the keyed hashes: one per kind of value, so that equal text in two roles
// (a surname that is also an identifier) never gives equal hashes.
const (
	hashPatient  = "patient_id"
	hashSurname  = "surname"
	hashAddress  = "address"
	hashBuilding = "building"
)

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sm3.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

// deriveKeys returns the SM4-GCM sealer and the hash key derived from secret.
func deriveKeys(secret []byte) (cipher.AEAD, []byte, error) {
	if len(secret) != KeySize {
		return nil, nil, fmt.Errorf("reference: the key must be %d bytes, not %d", KeySize, len(secret))
	}
	b, err := sm4.NewCipher(mac(secret, "medguard reference seal")[:sm4.BlockSize])
	if err != nil {
		return nil, nil, fmt.Errorf("reference: SM4 key: %w", err)
	}
	aead, err := cipher.NewGCM(b)
	if err != nil {
		return nil, nil, fmt.Errorf("reference: GCM: %w", err)
	}
	return aead, mac(secret, "medguard reference hash"), nil
}

// hash returns the keyed hash of an already normalized value ("" stays "": an empty
// value matches nothing).
func (s *Service) hash(label, v string) string {
	if v == "" {
		return ""
	}
	return hex.EncodeToString(mac(s.hashKey, label, v))
}

// PatientHash returns the keyed hash of a patient identifier, as PatientByHash and
// OpenOrRecentEncounters take it ("" for an empty identifier).
func (s *Service) PatientHash(patientID string) string {
	return s.hash(hashPatient, normalizeID(patientID))
}

// SurnameHash returns the keyed hash of the surname of name.
func (s *Service) SurnameHash(name string) string { return s.hash(hashSurname, Surname(name)) }

// AddressHash returns the keyed hash of the normalized address.
func (s *Service) AddressHash(addr string) string {
	return s.hash(hashAddress, NormalizeAddress(addr))
}

// BuildingHash returns the keyed hash of the building of the address.
func (s *Service) BuildingHash(addr string) string { return s.hash(hashBuilding, Building(addr)) }

// sealAD binds a sealed value to its organisation, table column and row key.
func sealAD(orgID int64, column, key string) []byte {
	return []byte("reference." + column + "\x00" + strconv.FormatInt(orgID, 10) + "\x00" + key)
}

// seal returns what is stored for a value ("" stays "").
func (s *Service) seal(orgID int64, column, key, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(v)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("reference: nonce: %w", err)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, []byte(v), sealAD(orgID, column, key))), nil
}

// open returns the value a sealed column stores.
func (s *Service) open(orgID int64, column, key, stored string) (string, error) {
	if stored == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(stored, sealedPrefix)
	b, err := base64.StdEncoding.DecodeString(rest)
	n := s.aead.NonceSize()
	if !ok || err != nil || len(b) < n+s.aead.Overhead() {
		return "", errors.New("reference: a sealed value is damaged")
	}
	out, err := s.aead.Open(nil, b[:n], b[n:], sealAD(orgID, column, key))
	if err != nil {
		return "", fmt.Errorf("reference: open a sealed value (is reference.key the one it was sealed with?): %w", err)
	}
	return string(out), nil
}
