package ftps

// Linked in so that TLSFLOW_PROVIDER=openssl runs these tests on the OpenSSL
// provider (test.sh does).
import _ "github.com/tlsflow/tlsflow/provider/openssl"
