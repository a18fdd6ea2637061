// The identity tokens of ActivateSession: policy choice from the server's endpoints and the
// encrypted UserName secret (checked by decrypting with a throwaway key).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>

#include "clients/opcua/client.h"
#include "protocols/opcua/encoding.h"
#include "protocols/opcua/transport.h"

namespace uc::clients::opcua {
namespace {

namespace ua = uc::opcua;

struct KeyAndCert {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, &EVP_PKEY_free};
  std::string der;
};

// A throwaway RSA key and a self-signed certificate (DER) for it.
KeyAndCert make_cert(unsigned bits) {
  KeyAndCert out;
  out.key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
  EXPECT_NE(out.key, nullptr);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), &X509_free);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), out.key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("uc-test"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  EXPECT_GT(X509_sign(x.get(), out.key.get(), EVP_sha256()), 0);
  unsigned char* buf = nullptr;
  const int len = i2d_X509(x.get(), &buf);
  EXPECT_GT(len, 0);
  out.der.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return out;
}

std::string decrypt(EVP_PKEY* key, const std::string& cipher) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key, nullptr), &EVP_PKEY_CTX_free);
  EXPECT_GT(EVP_PKEY_decrypt_init(ctx.get()), 0);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING), 0);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha1()), 0);
  EXPECT_GT(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha1()), 0);
  const auto block = static_cast<std::size_t>(EVP_PKEY_get_size(key));
  EXPECT_EQ(cipher.size() % block, 0u);
  std::string plain;
  for (std::size_t off = 0; off + block <= cipher.size(); off += block) {
    std::string out(block, '\0');
    std::size_t n = out.size();
    EXPECT_GT(EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                               reinterpret_cast<const unsigned char*>(cipher.data() + off), block),
              0);
    plain.append(out.data(), n);
  }
  return plain;
}

std::string legacy_secret(const std::string& password, const std::string& nonce) {
  std::string s;
  const auto len = static_cast<std::uint32_t>(password.size() + nonce.size());
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((len >> (8 * i)) & 0xFF));
  return s + password + nonce;
}

TEST(OpcuaUserSecret, EncryptsTheLegacySecretWithRsaOaepSha1) {
  const KeyAndCert kc = make_cert(2048);
  const std::string nonce(32, '\x5a');
  auto cipher = encrypt_user_secret("s3cret-pw", nonce, kc.der);
  ASSERT_TRUE(cipher) << cipher.status().message();
  EXPECT_EQ(cipher->size(), 256u);  // one block
  EXPECT_EQ(decrypt(kc.key.get(), *cipher), legacy_secret("s3cret-pw", nonce));

  // Longer than one block (256 - 42 = 214 bytes): several blocks, in order.
  const std::string long_pw(500, 'p');
  cipher = encrypt_user_secret(long_pw, nonce, kc.der);
  ASSERT_TRUE(cipher);
  EXPECT_EQ(cipher->size(), 3u * 256u);  // 4 + 500 + 32 = 536 bytes in blocks of 214
  EXPECT_EQ(decrypt(kc.key.get(), *cipher), legacy_secret(long_pw, nonce));

  // A certificate chain: the first certificate's key is used.
  const KeyAndCert other = make_cert(1024);
  cipher = encrypt_user_secret("pw", nonce, kc.der + other.der);
  ASSERT_TRUE(cipher);
  EXPECT_EQ(decrypt(kc.key.get(), *cipher), legacy_secret("pw", nonce));
}

TEST(OpcuaUserSecret, BadCertificatesAreClearErrors) {
  auto r = encrypt_user_secret("pw", "n", "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "the server sent no certificate to encrypt the password with");
  r = encrypt_user_secret("pw", "n", "not a certificate");
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("not a valid DER X.509 certificate"), std::string::npos);
  const KeyAndCert kc = make_cert(2048);
  r = encrypt_user_secret("pw", "n", kc.der.substr(0, kc.der.size() / 2));  // truncated
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("not a valid DER X.509 certificate"), std::string::npos);
  r = encrypt_user_secret("pw", "n", std::string(100 * 1024, '\x30'));  // oversized
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().message(), "password, server nonce or server certificate too long");
}

ua::EndpointDescription endpoint(ua::MessageSecurityMode mode, std::string policy,
                                 std::vector<ua::UserTokenPolicy> tokens) {
  ua::EndpointDescription ep;
  ep.security_mode = mode;
  ep.security_policy_uri = std::move(policy);
  ep.user_identity_tokens = std::move(tokens);
  return ep;
}

ua::UserTokenPolicy token(std::string id, ua::UserTokenType type, std::string policy = "") {
  ua::UserTokenPolicy p;
  p.policy_id = std::move(id);
  p.token_type = type;
  p.security_policy_uri = std::move(policy);
  return p;
}

const std::string kBasic256Sha256 = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256";

TEST(OpcuaIdentity, AnonymousUsesTheAdvertisedPolicyIdOrFailsClearly) {
  ClientOptions o;
  ua::CreateSessionResponse created;
  created.server_endpoints.push_back(endpoint(ua::MessageSecurityMode::kSignAndEncrypt, kBasic256Sha256,
                                              {token("anon-secure", ua::UserTokenType::kAnonymous)}));
  created.server_endpoints.push_back(endpoint(ua::MessageSecurityMode::kNone, std::string(ua::kSecurityPolicyNone),
                                              {token("u", ua::UserTokenType::kUserName),
                                               token("0", ua::UserTokenType::kAnonymous)}));
  auto t = user_identity_token(o, created);
  ASSERT_TRUE(t);
  ua::AnonymousIdentityToken anon;
  ASSERT_TRUE(ua::decode_extension(*t, anon, ua::Limits()));
  EXPECT_EQ(anon.policy_id, ua::String("0"));

  created.server_endpoints[1].user_identity_tokens.pop_back();
  t = user_identity_token(o, created);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().message(), "the server offers no anonymous login (user token types: UserName); set "
                                  "security.username and security.password");
}

TEST(OpcuaIdentity, UserNameWithPlainOrEncryptedPassword) {
  ClientOptions o;
  o.username = "operator";
  o.password = "s3cret-pw";
  const KeyAndCert kc = make_cert(2048);
  ua::CreateSessionResponse created;
  created.server_nonce = ua::ByteString{std::string(32, '\x11')};
  created.server_certificate = ua::ByteString{kc.der};
  // Token policy without its own SecurityPolicyUri on a None endpoint: plain password.
  created.server_endpoints.push_back(endpoint(ua::MessageSecurityMode::kNone, std::string(ua::kSecurityPolicyNone),
                                              {token("anonymous", ua::UserTokenType::kAnonymous),
                                               token("user-plain", ua::UserTokenType::kUserName)}));
  auto t = user_identity_token(o, created);
  ASSERT_TRUE(t);
  ua::UserNameIdentityToken u;
  ASSERT_EQ(t->type_id, ua::NodeId(ua::UserNameIdentityToken::kBinaryEncodingId));
  ASSERT_TRUE(ua::decode_extension(*t, u, ua::Limits()));
  EXPECT_EQ(u.policy_id, ua::String("user-plain"));
  EXPECT_EQ(u.user_name, ua::String("operator"));
  EXPECT_EQ(u.password.data, std::optional<std::string>("s3cret-pw"));
  EXPECT_FALSE(u.encryption_algorithm.has_value());

  // The token policy's own Basic256Sha256: encrypted with the server certificate.
  created.server_endpoints[0].user_identity_tokens[1] = token("user-enc", ua::UserTokenType::kUserName, kBasic256Sha256);
  t = user_identity_token(o, created);
  ASSERT_TRUE(t) << t.status().message();
  ASSERT_TRUE(ua::decode_extension(*t, u, ua::Limits()));
  EXPECT_EQ(u.policy_id, ua::String("user-enc"));
  EXPECT_EQ(u.encryption_algorithm, ua::String("http://www.w3.org/2001/04/xmlenc#rsa-oaep"));
  EXPECT_EQ(decrypt(kc.key.get(), u.password.data.value_or("")), legacy_secret("s3cret-pw", std::string(32, '\x11')));

  // A policy this build cannot encrypt for, no certificate, no UserName policy: clear errors.
  created.server_endpoints[0].user_identity_tokens[1].security_policy_uri =
      std::string("http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss");
  t = user_identity_token(o, created);
  ASSERT_FALSE(t);
  EXPECT_NE(t.status().message().find("Aes256_Sha256_RsaPss, which this build does not support"), std::string::npos);
  created.server_endpoints[0].user_identity_tokens[1].security_policy_uri = kBasic256Sha256;
  created.server_certificate = ua::ByteString{};
  t = user_identity_token(o, created);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().message(),
            "cannot encrypt the password: the server sent no certificate to encrypt the password with");
  created.server_endpoints[0].user_identity_tokens.pop_back();
  t = user_identity_token(o, created);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.status().message(),
            "the server offers no UserName login on a security None endpoint (user token types: Anonymous)");
}

TEST(OpcuaClientEndpoint, ParsesHostPortAndPath) {
  std::string host, port;
  ASSERT_TRUE(parse_endpoint("opc.tcp://127.0.0.1:4841/UA/Server", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, "4841");
  ASSERT_TRUE(parse_endpoint("opc.tcp://plc", host, port));
  EXPECT_EQ(port, "4840");
  ASSERT_TRUE(parse_endpoint("opc.tcp://[::1]:48400", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(parse_endpoint("http://x", host, port));
  EXPECT_FALSE(parse_endpoint("opc.tcp://", host, port));
}

TEST(OpcuaClient, RefusedConnectionIsRetryable) {
  ClientOptions o;
  o.endpoint_url = "opc.tcp://127.0.0.1:1";
  o.timeout_ms = 2000;
  Client c(o);
  Status s = c.connect();
  EXPECT_FALSE(s.is_ok());
  EXPECT_TRUE(s.is_retryable()) << s.to_string();
}

}  // namespace
}  // namespace uc::clients::opcua
