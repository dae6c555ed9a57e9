# virConnectOpenAuth on a test:///PATH host with an <auth> user.
use strict;
use warnings;
use File::Temp qw(tempdir);
use Test::More;
use PyVirt ':constants';

my $dir = tempdir(CLEANUP => 1);
open(my $fh, '>', "$dir/host.xml") or die $!;
print $fh <<'XML';
<node>
  <auth>
    <user password='secret'>alice</user>
  </auth>
  <domain type='test'>
    <name>d1</name>
    <memory>1024</memory>
    <os><type>hvm</type></os>
  </domain>
</node>
XML
close $fh;
my $uri = "test://$dir/host.xml";

my @asked;
sub answers {
    my ($user, $password) = @_;
    return {
        credtype => [CRED_AUTHNAME, CRED_PASSPHRASE],
        callback => sub {
            for my $c (@_) {
                push @asked, $c->{type};
                $c->{result} = $c->{type} == CRED_AUTHNAME ? $user : $password;
            }
        },
    };
}

my $conn = PyVirt::connect_open_auth($uri, answers('alice', 'secret'));
is_deeply(\@asked, [CRED_AUTHNAME, CRED_PASSPHRASE], 'asked for a user name, then a password');
is($conn->domain_lookup_by_name('d1')->get_name, 'd1', 'the right password opens');

eval { PyVirt::connect_open_auth($uri, answers('alice', 'wrong'), 0) };
isa_ok($@, 'PyVirt::Error');
is(ref $@ && $@->code, ERR_AUTH_FAILED, 'a wrong password: authentication failed');

eval {
    PyVirt::connect_open_auth($uri, {credtype => [CRED_AUTHNAME, CRED_PASSPHRASE],
                                     callback => sub { die "no\n" }});
};
is(ref $@ && $@->code, ERR_AUTH_FAILED, 'a callback that dies refuses');
is(ref $@ && $@->domain, FROM_AUTH, '... from the auth domain');

eval { PyVirt::connect_open_auth($uri, {credtype => [], callback => 'x'}) };
is(ref $@ && $@->code, ERR_INVALID_ARG, 'a callback that is no code ref');

done_testing;
