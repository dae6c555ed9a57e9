(* Graphics events: the callback gets the client's addresses and subject as
   records.  The test driver has no graphics clients and never emits one: this
   checks that the callback is taken for its event ID and given back. *)
open Pyvirt
open Harness

let () =
  event_register_default_impl ();
  let conn = connect_open ~name:"test:///default" () in
  let cb _ _ _ (local : domain_event_graphics_address) _ _ (subject : domain_event_graphics_subject) =
    failwith (Printf.sprintf "a graphics event on the test driver: %s %d" local.node
                (Array.length subject.identities)) in
  test "register and deregister" (fun () ->
      let id = Connect.domain_event_register_any conn None domain_event_id_graphics
          (Domain_event_graphics cb) in
      Connect.domain_event_deregister_any conn id;
      check_eq "twice" string_of_int err_invalid_arg
        (error_code (fun () -> Connect.domain_event_deregister_any conn id)));
  test "another event's callback does not fit" (fun () ->
      check_eq "invalid arg" string_of_int err_invalid_arg (error_code (fun () ->
          Connect.domain_event_register_any conn None domain_event_id_graphics
            (Domain_event_generic (fun _ _ -> ())))));
  finish ()
