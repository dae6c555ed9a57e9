(* connect_open_auth on a test:///PATH host with an <auth> user. *)
open Pyvirt
open Harness

let host = {|<node>
  <auth>
    <user password='secret'>alice</user>
  </auth>
  <domain type='test'>
    <name>d1</name>
    <memory>1024</memory>
    <os><type>hvm</type></os>
  </domain>
</node>
|}

let uri =
  let path = Filename.temp_file "pyvirt-auth" ".xml" in
  at_exit (fun () -> Sys.remove path);
  let oc = open_out path in
  output_string oc host;
  close_out oc;
  "test://" ^ path

let asked = ref []

let answers user password =
  { credtype = [ cred_authname; cred_passphrase ];
    callback = List.map (fun c ->
        asked := !asked @ [ c.cred_type ];
        Some (if c.cred_type = cred_authname then user else password)) }

let () =
  test "right password opens" (fun () ->
      let conn = connect_open_auth ~name:uri ~auth:(answers "alice" "secret") () in
      check_eq "asked" (fun l -> String.concat "," (List.map string_of_int l))
        [ cred_authname; cred_passphrase ] !asked;
      check_eq "d1" Fun.id "d1" (Domain.get_name (Connect.domain_lookup_by_name conn "d1"));
      ignore (Connect.close conn));
  test "wrong password raises" (fun () ->
      check_eq "code" string_of_int err_auth_failed
        (error_code (fun () -> connect_open_auth ~name:uri ~auth:(answers "alice" "x") ())));
  test "a raising callback refuses" (fun () ->
      let refuse = { credtype = [ cred_authname ]; callback = (fun _ -> failwith "no") } in
      match connect_open_auth ~name:uri ~auth:refuse () with
      | _ -> raise (Check_failed "opened")
      | exception Error e ->
        check_eq "code" string_of_int err_auth_failed e.code;
        check_eq "domain" string_of_int from_auth e.domain);
  finish ()
