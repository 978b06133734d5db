package simulator

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
)

// DemoGoogleServiceAccount is the client_email of the service account
// DemoGoogleCredentials makes.
const DemoGoogleServiceAccount = "offboarder-demo@simulator.iam.gserviceaccount.com"

// DemoGoogleCredentials makes a service account for demos: a fresh RSA key
// in Google's JSON key format, whose token_uri is tokenURL (the simulator's
// /google/token). Set Options.GoogleKey to the returned public key and the
// simulator's Google fake accepts the account's signed assertions. The key
// lives only as long as the caller keeps it; it is never written anywhere.
func DemoGoogleCredentials(tokenURL string) (credentials []byte, public *rsa.PublicKey, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("simulator: demo google key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("simulator: demo google key: %w", err)
	}
	// The fields of a service account's JSON key that a client reads
	// (https://cloud.google.com/iam/docs/keys-create-delete, "JSON key file").
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "offboarder-demo",
		"private_key_id": "5e1a0c9d4b7f2a6e",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   DemoGoogleServiceAccount,
		"client_id":      "100000000000000000001",
		"token_uri":      tokenURL,
	})
	if err != nil {
		return nil, nil, err
	}
	return b, &key.PublicKey, nil
}

// DemoOktaClientID is the client id of the Okta service app DemoOktaKey
// makes the key of.
const DemoOktaClientID = "0oa-offboarder-demo"

// DemoOktaKey makes a demo Okta service app's key: a fresh EC P-256 key as
// PKCS #8 PEM (what the okta connector's private_key takes, signed ES256).
// Set Options.OktaClientID to DemoOktaClientID and Options.OktaPublicKey to
// the returned public key, and the simulator's Okta token endpoint accepts
// the app's client assertions. Nothing is written anywhere.
func DemoOktaKey() (pemKey []byte, public crypto.PublicKey, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("simulator: demo okta key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("simulator: demo okta key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), key.Public(), nil
}
