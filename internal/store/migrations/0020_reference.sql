-- Reference data that explains patient-record accesses (package reference): the staff,
-- the patients and the encounters of each organisation. Names, addresses and patient
-- identifiers are stored sealed (SM4-GCM under reference.key, outside the database,
-- "sm4gcm:" + base64(nonce ‖ ciphertext)); the *_hash columns are keyed hashes (HMAC-SM3
-- under a key derived from the same file, hex) that the detection engine matches on:
-- patient identifier, surname, normalized address and building (the address up to the
-- building). A re-import upserts by key.

CREATE TABLE reference_staff (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    staff_id TEXT NOT NULL,
    account TEXT NOT NULL DEFAULT '',
    name_sealed TEXT NOT NULL DEFAULT '',
    surname_hash TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '',
    address_sealed TEXT NOT NULL DEFAULT '',
    address_hash TEXT NOT NULL DEFAULT '',
    building_hash TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, staff_id)
);

CREATE INDEX reference_staff_account ON reference_staff (org_id, account);

CREATE TABLE reference_patients (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    patient_hash TEXT NOT NULL,
    patient_sealed TEXT NOT NULL,
    name_sealed TEXT NOT NULL DEFAULT '',
    surname_hash TEXT NOT NULL DEFAULT '',
    address_sealed TEXT NOT NULL DEFAULT '',
    address_hash TEXT NOT NULL DEFAULT '',
    building_hash TEXT NOT NULL DEFAULT '',
    vip BOOLEAN NOT NULL DEFAULT FALSE,
    deceased_on TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD, '' when alive
    staff_id TEXT NOT NULL DEFAULT '',     -- set when the patient is an employee
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, patient_hash)
);

CREATE INDEX reference_patients_building ON reference_patients (org_id, building_hash);

CREATE TABLE reference_encounters (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    patient_hash TEXT NOT NULL,
    staff_id TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    start_at {{ts}} NOT NULL,
    end_at {{ts}},                          -- NULL while the encounter is open
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (org_id, patient_hash, staff_id, start_at)
);
